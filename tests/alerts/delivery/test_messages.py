"""What a notification says, as the person who receives it reads it."""

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
