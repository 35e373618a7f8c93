"""Flips store why they happened as a cause from a fixed set, next to the reason for people.

Flips written before this had only their reason, so the cause is read back from it here, once:
the texts below are the ones the probes, the heartbeat services and the pause and resume
actions wrote up to this migration, copied so that the migration keeps meaning the same
thing whatever the code later writes. A reason matching none of them stays "unknown".
"""

from django.db import migrations, models

# (cause, lookups on the flip), tried in order on flips whose cause is still unknown, so the
# heartbeat and operator texts go before the probe errors they could contain.
OLD_REASONS = [
    ("paused", {"new_status": "paused"}),
    ("resumed", {"reason__startswith": "resumed"}),
    ("late", {"reason__startswith": "late: "}),
    ("missing", {"reason__startswith": "missing: "}),
    ("exit_code", {"reason__startswith": "the job exited with code "}),
    ("failure_ping", {"reason": "the job signalled a failure"}),
    ("over_runtime", {"reason__contains": "max_runtime"}),
    ("under_runtime", {"reason__contains": "min_runtime"}),
    ("recovered", {"new_status": "up"}),
    # Probe errors, as each probe kind worded them (after "…: " in a debounced reason).
    ("timeout", {"reason__contains": "timed out after "}),
    ("too_many_redirects", {"reason__regex": r"more than [0-9]+ redirects"}),
    ("bad_status", {"reason__regex": r"status [0-9]+ not in "}),
    ("keyword_failed", {"reason__contains": "keyword '"}),
    ("keyword_failed", {"reason__contains": 'keyword "'}),
    ("json_failed", {"reason__contains": "JSON "}),
    ("json_failed", {"reason__contains": "body is not JSON"}),
    ("slow", {"reason__contains": ": slow: "}),
    ("certificate_expired", {"reason__contains": "certificate expired on "}),
    ("certificate_expiring", {"reason__contains": "certificate expires in "}),
    ("tls_error", {"reason__contains": "no certificate presented"}),
    # Before "Cannot connect", which aiohttp's certificate errors also say. Not a bare "SSL":
    # SQLite's contains ignores case, and every aiohttp connection error says "ssl:default".
    ("tls_error", {"reason__contains": "CERTIFICATE_VERIFY_FAILED"}),
    ("tls_error", {"reason__contains": "SSLError"}),
    ("tls_error", {"reason__contains": "SSLCertVerificationError"}),
    ("tls_error", {"reason__contains": "[SSL"}),
    ("dns_mismatch", {"reason__regex": r"answers .*; expected "}),
    ("dns_failure", {"reason__contains": " does not exist"}),
    ("dns_failure", {"reason__regex": r"no [A-Z]+ record for "}),
    ("dns_failure", {"reason__contains": "gaierror"}),
    ("dns_failure", {"reason__contains": "Name or service not known"}),
    ("dns_failure", {"reason__contains": "NoNameservers"}),
    ("config_error", {"reason__regex": r"environment variable [A-Za-z0-9_]+ is not set"}),
    ("config_error", {"reason__contains": "no probe for kind "}),
    ("probe_error", {"reason__contains": "probe error: "}),
    ("connection_failed", {"reason__contains": "Cannot connect"}),
    ("connection_failed", {"reason__contains": "Connect call failed"}),
    ("connection_failed", {"reason__contains": "Connection refused"}),
    ("connection_failed", {"reason__contains": "ConnectionRefusedError"}),
    ("connection_failed", {"reason__contains": "Server disconnected"}),
    ("connection_failed", {"reason__contains": "ConnectionResetError"}),
]


def causes_from_reasons(apps, schema_editor):
    """One UPDATE per text, however many flips there are."""
    Flip = apps.get_model("monitoring", "Flip")
    for cause, lookups in OLD_REASONS:
        Flip.objects.filter(cause="unknown", **lookups).update(cause=cause)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0010_stable_task_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="flip",
            name="cause",
            field=models.CharField(
                choices=[
                    ("connection_failed", "connection refused or failed"),
                    ("timeout", "timed out"),
                    ("dns_failure", "DNS lookup failed"),
                    ("dns_mismatch", "DNS answers not as expected"),
                    ("tls_error", "TLS handshake or certificate error"),
                    ("certificate_expiring", "certificate expiring soon"),
                    ("certificate_expired", "certificate expired"),
                    ("bad_status", "HTTP status not accepted"),
                    ("too_many_redirects", "too many redirects"),
                    ("keyword_failed", "keyword check failed"),
                    ("json_failed", "JSON check failed"),
                    ("slow", "slower than the degraded threshold"),
                    ("config_error", "the target's settings cannot be used"),
                    ("probe_error", "the probe itself failed"),
                    ("late", "ping late"),
                    ("missing", "ping missing past the grace period"),
                    ("failure_ping", "the job signalled a failure"),
                    ("exit_code", "the job exited with a non-zero code"),
                    ("over_runtime", "run over its maximum runtime"),
                    ("under_runtime", "run under its minimum runtime"),
                    ("paused", "paused"),
                    ("resumed", "resumed"),
                    ("recovered", "up: probes pass or pings arrive"),
                    ("unknown", "not recorded"),
                ],
                default="unknown",
                max_length=24,
            ),
        ),
        migrations.RunPython(causes_from_reasons, migrations.RunPython.noop, elidable=True),
    ]
