"""What a notification says, independent of where it goes: built once from an outbox row.

Notifiers shape it for their service (a Slack block, an Adaptive Card, an Alertmanager
payload); the human-readable texts come from templates/alerts/notifications/, so the
wording is changed in one place.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from alerts.incidents.selectors import incident_sources
from alerts.models import Incident, IncidentAlert, IncidentEvent, Notification, Severity

# The incident's status as of the event a notification is about, not as of sending. Keyed by
# the stored kind, a plain string: choices compare equal to their values.
STATUS_AFTER: dict[str, str] = {
    IncidentEvent.Kind.FIRED: Incident.Status.TRIGGERED,
    IncidentEvent.Kind.REOPENED: Incident.Status.TRIGGERED,
    IncidentEvent.Kind.ACKNOWLEDGED: Incident.Status.ACKNOWLEDGED,
    IncidentEvent.Kind.RESOLVED: Incident.Status.RESOLVED,
}


@dataclass(frozen=True)
class AlertLine:
    fingerprint: str
    status: str  # firing | resolved
    labels: dict[str, str]
    summary: str
    starts_at: datetime
    ends_at: datetime | None = None
    value: float | None = None


@dataclass(frozen=True)
class Message:
    incident_id: int
    title: str
    severity: str
    status: str  # Incident.Status value
    event: str  # IncidentEvent.Kind value
    event_message: str
    summary: str
    labels: dict[str, str]
    url: str
    at: datetime
    dedup_key: str
    alerts: tuple[AlertLine, ...] = ()
    receiver: str = ""  # the channel's name
    # What the incident is about (target, issue, rule), as (kind, name, absolute URL).
    sources: tuple[tuple[str, str, str], ...] = ()
    subject: str = field(default="", compare=False)
    text: str = field(default="", compare=False)
    html: str = field(default="", compare=False)

    @property
    def tier(self) -> str:
        return Severity(self.severity).tier

    @property
    def firing(self) -> bool:
        return self.status != Incident.Status.RESOLVED

    def context(self) -> dict:
        return {
            "incident_id": self.incident_id,
            "title": self.title,
            "severity": self.severity,
            "tier": self.tier,
            "status": self.status,
            "event": self.event,
            "event_label": IncidentEvent.Kind(self.event).label
            if self.event in IncidentEvent.Kind.values
            else self.event,
            "event_message": self.event_message,
            "summary": self.summary,
            "labels": self.labels,
            "url": self.url,
            "at": self.at,
            "dedup_key": self.dedup_key,
            "alerts": self.alerts,
            "receiver": self.receiver,
            "firing": self.firing,
            "sources": [{"kind": kind, "name": name, "url": url} for kind, name, url in self.sources],
        }


def incident_url(incident_id: int) -> str:
    """The incident's page (its timeline, ack and resolve), as a link from outside."""
    return settings.SITE_URL + reverse("admin:alerts_incident_change", args=[incident_id])


def rendered(message: Message) -> Message:
    """`message` with its subject, plain text and HTML bodies rendered from the templates."""
    context = message.context()
    return replace(
        message,
        subject=" ".join(render_to_string("alerts/notifications/subject.txt", context).split()),
        text=render_to_string("alerts/notifications/body.txt", context).strip(),
        html=render_to_string("alerts/notifications/body.html", context),
    )


def message_build(*, notification: Notification) -> Message:
    incident, event = notification.incident, notification.event
    rows: list[IncidentAlert] = list(incident.alerts.all())
    alerts = tuple(
        AlertLine(
            fingerprint=a.fingerprint,
            status=a.status,
            labels=a.labels,
            summary=a.summary,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            value=a.value,
        )
        for a in rows
    )
    summary = next((a.summary for a in alerts if a.summary and a.status == "firing"), "") or (
        alerts[0].summary if alerts else ""
    )
    return rendered(
        Message(
            incident_id=incident.pk,
            title=incident.title,
            severity=incident.severity,
            status=STATUS_AFTER.get(event.kind, incident.status),
            event=event.kind,
            event_message=event.message,
            summary=summary,
            labels=incident.labels,
            url=incident_url(incident.pk),
            at=event.at,
            dedup_key=incident.dedup_key,
            alerts=alerts,
            receiver=notification.channel.name,
            sources=tuple((s.kind, s.name, s.url()) for s in incident_sources(incident=incident, alerts=rows)),
        )
    )


def message_test(*, channel_name: str, now: datetime) -> Message:
    """A harmless message for a channel's "send test" action: no incident behind it."""
    labels = {"alertname": "LookoutTest", "severity": Severity.LOW}
    return rendered(
        Message(
            incident_id=0,
            title=f"Test notification from Lookout to {channel_name}",
            severity=Severity.LOW,
            status=Incident.Status.TRIGGERED,
            event="test",
            event_message="Sent from the channel's admin page.",
            summary="If you can read this, the channel works.",
            labels=labels,
            url=settings.SITE_URL,
            at=now,
            dedup_key=f"lookout-test-{now:%Y%m%d%H%M%S}",
            alerts=(
                AlertLine(
                    fingerprint="lookout-test",
                    status="firing",
                    labels=labels,
                    summary="If you can read this, the channel works.",
                    starts_at=now,
                ),
            ),
            receiver=channel_name,
        )
    )
