"""What a notification says, as the person who receives it reads it."""

import json

import pytest

from alerts.delivery.messages import message_build
from alerts.models import IncidentEvent
from tests.alerts.delivery.factories import ChannelFactory, IncidentAlertFactory, IncidentFactory, make_notification
from tests.factories import ProjectFactory
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db


def build(incident):
    channel = ChannelFactory(kind="email", config={"to": ["oncall@example.com"]}, name="ops-mail")
    return message_build(notification=make_notification(channel, kind=IncidentEvent.Kind.FIRED, incident=incident))


def test_a_high_incident_is_titled_high_everywhere_not_warning(settings):
    incident = IncidentFactory(severity="high", title="storefront down: connection refused to 127.0.0.1:8199")
    IncidentAlertFactory(incident=incident, severity="high")
    message = build(incident)
    # The severity people set on the rule is the word they read, in the subject and the bodies.
    assert message.subject == "[HIGH] Fired: storefront down: connection refused to 127.0.0.1:8199"
    assert "Severity: high ·" in message.text and "warning" not in message.text.lower()
    assert "warning" not in message.html.lower()


def test_the_notification_links_to_the_target_on_site_url(settings):
    settings.SITE_URL = "http://lookout.example:8101"
    target = TargetFactory(project=ProjectFactory(), name="storefront")
    labels = {"alertname": "storefront down", "target": "storefront", "target_id": str(target.pk)}
    incident = IncidentFactory(severity="critical", labels=labels, title="storefront down: connection refused")
    IncidentAlertFactory(incident=incident, labels=labels)
    message = build(incident)
    link = f"http://lookout.example:8101/admin/monitoring/target/{target.pk}/change/"
    assert f"Target storefront: {link}" in message.text
    assert f'Target: <a href="{link}">storefront</a>' in message.html
    assert f"Incident: http://lookout.example:8101/admin/alerts/incident/{incident.pk}/change/" in message.text


@pytest.mark.parametrize(
    ("kind", "config", "link_in"),
    [
        ("slack", {"url_env": "HOOK"}, lambda p, link: link in p["blocks"][0]["text"]["text"]),
        ("discord", {"url_env": "HOOK"}, lambda p, link: f"[storefront]({link})" in p["embeds"][0]["description"]),
        (
            "teams",
            {"url_env": "HOOK"},
            lambda p, link: (
                {"type": "Action.OpenUrl", "title": "Target storefront", "url": link}
                in p["attachments"][0]["content"]["actions"]
            ),
        ),
        ("ntfy", {"topic": "ops"}, lambda p, link: p["actions"][0]["url"] == link and link in p["message"]),
    ],
)
def test_chat_bodies_link_to_the_target_in_the_portal(settings, monkeypatch, kind, config, link_in):
    # A person reading Slack, Teams, Discord or a phone push reaches the target in one tap.
    from alerts.delivery.notifiers import NOTIFIERS

    monkeypatch.setenv("HOOK", "https://hooks.example/x")
    settings.SITE_URL = "http://lookout.example:8101"
    target = TargetFactory(project=ProjectFactory(), name="storefront")
    labels = {"alertname": "storefront down", "target": "storefront", "target_id": str(target.pk)}
    incident = IncidentFactory(severity="high", labels=labels, title="storefront down: connection refused")
    IncidentAlertFactory(incident=incident, labels=labels)
    channel = ChannelFactory(kind=kind, config=NOTIFIERS[kind].validate_config(config), name=f"ops-{kind}")
    message = message_build(notification=make_notification(channel, kind=IncidentEvent.Kind.FIRED, incident=incident))
    payload = NOTIFIERS[kind].from_channel(channel).payload(message)
    assert link_in(payload, f"http://lookout.example:8101/admin/monitoring/target/{target.pk}/change/")
    assert "WARNING" not in json.dumps(payload)
