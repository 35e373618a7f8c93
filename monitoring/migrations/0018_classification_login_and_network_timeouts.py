"""The seeded classification rules catch "login failed" as authentication, and a network
timeout as network rather than performance.

Only the seeded rules still as seeded are changed: a rule a person edited is theirs. The
network timeout rule needs a timeout type and a network word in the message together (a
rule's conditions all hold), and sits between Network and Performance, whose type pattern
"Timeout" would otherwise claim it first (type rules come before message rules)."""

from django.db import migrations

AUTH_MESSAGE = r"\b40[13]\b|unauthori[sz]ed|invalid token|token expired|not authenticated"
AUTH_MESSAGE_NEW = AUTH_MESSAGE + r"|login failed|authentication failed|invalid (credentials|password)|wrong password"
NETWORK_MESSAGE = r"connection (refused|reset|aborted)|name or service not known|network is unreachable|ECONNREFUSED"
NETWORK_MESSAGE_NEW = NETWORK_MESSAGE + r"|network (error|timeout)|failed to fetch|fetch failed|ETIMEDOUT"
NETWORK_TIMEOUT = {
    "position": 45,
    "name": "Network timeout",
    "type_pattern": r"Timeout",
    "message_pattern": r"network|connect|fetch|socket|ETIMEDOUT|upstream|gateway",
    "severity": "high",
    "category": "network",
    "should_alert": True,
}
CHANGES = [
    ("Authentication (message)", AUTH_MESSAGE, AUTH_MESSAGE_NEW),
    ("Network (message)", NETWORK_MESSAGE, NETWORK_MESSAGE_NEW),
]


def route(apps, schema_editor):
    Rule = apps.get_model("monitoring", "ErrorClassificationRule")
    for name, old, new in CHANGES:
        Rule.objects.filter(project=None, name=name, message_pattern=old).update(message_pattern=new)
    if not Rule.objects.filter(project=None, name=NETWORK_TIMEOUT["name"]).exists():
        Rule.objects.create(**NETWORK_TIMEOUT)


def unroute(apps, schema_editor):
    Rule = apps.get_model("monitoring", "ErrorClassificationRule")
    for name, old, new in CHANGES:
        Rule.objects.filter(project=None, name=name, message_pattern=new).update(message_pattern=old)
    Rule.objects.filter(project=None, **NETWORK_TIMEOUT).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0017_security_events")]

    operations = [migrations.RunPython(route, unroute)]
