"""POST /api/v1/alerts/events: a generic events API shaped like PagerDuty Events v2.

`trigger` opens an incident for its dedup_key or appends to the open one (a dedup_key is
made up and returned when the event has none); `acknowledge` and `resolve` act on the open
incident of that dedup_key. As PagerDuty does, they answer 202 and change nothing when there
is none: a sender retrying a resolve, or resolving what was already resolved in the portal,
must not see an error it can do nothing about. 202 means it is stored.
"""

import uuid
from datetime import datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from alerts.incidents.services.incidents import AlertSignal, alerts_receive, incident_acknowledge, incident_resolve
from alerts.intake.api import bodies
from alerts.intake.api import fields as f
from alerts.intake.api.common import IntakeView
from alerts.models import Incident, IncidentAlert, Integration, Severity

ACTIONS = ("trigger", "acknowledge", "resolve")
# PagerDuty Events v2's fields. client, client_url, links and images are PagerDuty's own, sent
# by its libraries: accepted and not read. Any other field is refused, naming it.
EVENT_FIELDS = frozenset(
    {"event_action", "routing_key", "dedup_key", "payload", "client", "client_url", "links", "images"}
)
PAYLOAD_FIELDS = frozenset(
    {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
)
SEVERITIES = {"critical": Severity.CRITICAL, "error": Severity.HIGH, "warning": Severity.MEDIUM, "info": Severity.LOW}
DEDUP_KEY_MAX = 200


def _trigger_signal(event: dict, *, dedup_key: str, integration: Integration, now) -> AlertSignal:
    payload = f.obj(f.required(event, "payload", "payload"), "payload")
    f.known(payload, PAYLOAD_FIELDS, "payload.")
    summary = f.string(f.required(payload, "summary", "payload.summary"), "payload.summary", max_length=1024)
    source = f.string(f.required(payload, "source", "payload.source"), "payload.source", max_length=255)
    word = f.choice(f.required(payload, "severity", "payload.severity"), "payload.severity", tuple(SEVERITIES))
    at = f.timestamp(payload["timestamp"], "payload.timestamp") if "timestamp" in payload else None
    labels = {"alertname": summary[:200], "severity": word, "source": source}
    for key in ("component", "group", "class"):
        if key in payload:
            labels[key] = f.string(payload[key], f"payload.{key}", max_length=255)
    if "custom_details" in payload:
        # Scalar details become labels, so silences and inhibition can match on them.
        for key, value in f.obj(payload["custom_details"], "payload.custom_details").items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                labels[f"detail_{key}"] = str(value)[:255]
    if integration.project is not None:
        labels.setdefault("project", integration.project.slug)
    return AlertSignal(
        source="external",
        fingerprint=f.bounded_key("", dedup_key, max_length=64),
        dedup_key=dedup_key,
        labels=labels,
        status="firing",
        severity=SEVERITIES[word],
        summary=summary[:500],
        at=at or now,
        project_id=integration.project_id,
        integration_id=integration.pk,
    )


def _resolve(incident: Incident, *, integration: Integration, now: datetime) -> None:
    """Resolve the incident's alerts as a rule's resolution does (each firing alert ends now),
    which resolves an auto-resolving incident with its last alert; one that does not
    auto-resolve is resolved here too, since the sender said the problem is over."""
    firing = incident.alerts.filter(status=IncidentAlert.Status.FIRING)
    signals = [
        AlertSignal(
            source="external",
            fingerprint=alert.fingerprint,
            dedup_key=incident.dedup_key,
            labels=dict(alert.labels),
            status="resolved",
            severity=alert.severity,
            summary=alert.summary,
            at=now,
            project_id=integration.project_id,
            integration_id=integration.pk,
        )
        for alert in firing
    ]
    alerts_receive(signals=signals, now=now)
    incident.refresh_from_db(fields=["status"])
    if incident.status != Incident.Status.RESOLVED:
        incident_resolve(incident=incident, actor=None, now=now, message="resolved through the events API")


@extend_schema(
    request={"application/json": bodies.EVENT},
    responses={
        202: inline_serializer(
            "EventAccepted",
            {
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "dedup_key": serializers.CharField(),
            },
        )
    },
    examples=[
        OpenApiExample(
            "Trigger",
            request_only=True,
            value={
                "event_action": "trigger",
                "dedup_key": "disk-full-db-1",
                "payload": {
                    "summary": "Disk 95% full on db-1",
                    "source": "db-1",
                    "severity": "critical",
                    "custom_details": {"mount": "/var"},
                },
            },
        )
    ],
    description="Events like PagerDuty Events v2: event_action trigger | acknowledge | resolve, by dedup_key. "
    "payload.severity is critical | error | warning | info. acknowledge or resolve for a dedup_key with no "
    "open incident is accepted (202) and changes nothing, as in PagerDuty. Unknown fields are refused (400 "
    "naming them); PagerDuty's client, client_url, links and images are accepted and not read.",
)
class EventsView(IntakeView):
    integration_kind = Integration.Kind.EVENTS
    token_in_body = True

    def post(self, request):
        event = self.read_json(request)
        f.known(event, EVENT_FIELDS)
        integration = request.auth
        action = f.choice(f.required(event, "event_action", "event_action"), "event_action", ACTIONS)
        if "routing_key" in event:
            f.string(event["routing_key"], "routing_key")
        given = event.get("dedup_key")
        if given is None and action == "trigger":
            given = uuid.uuid4().hex
        given = f.string(
            f.required(event, "dedup_key", "dedup_key") if given is None else given,
            "dedup_key",
            max_length=DEDUP_KEY_MAX,
        )
        dedup_key = f"events:{integration.pk}:{given}"
        now = timezone.now()
        if action == "trigger":
            signal = _trigger_signal(event, dedup_key=dedup_key, integration=integration, now=now)
            self.atomically(lambda: alerts_receive(signals=[signal], now=now))
        else:
            incident = Incident.objects.filter(dedup_key=dedup_key).exclude(status=Incident.Status.RESOLVED).first()
            if incident is not None and action == "acknowledge":
                incident_acknowledge(incident=incident, actor=None, now=now)
            elif incident is not None:
                self.atomically(lambda: _resolve(incident, integration=integration, now=now))
        return Response(
            {"status": "success", "message": "Event processed", "dedup_key": given}, status=status.HTTP_202_ACCEPTED
        )
