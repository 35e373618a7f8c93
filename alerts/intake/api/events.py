"""POST /api/v1/alerts/events: a generic events API shaped like PagerDuty Events v2.

`trigger` opens an incident for its dedup_key or appends to the open one (a dedup_key is
made up and returned when the event has none); `acknowledge` and `resolve` act on the open
incident of that dedup_key, and answer 404 when there is none. 202 means it is stored.
"""

import uuid

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from alerts.incidents.services.incidents import AlertSignal, alerts_receive, incident_acknowledge, incident_resolve
from alerts.intake.api import fields as f
from alerts.intake.api.common import IntakeView
from alerts.models import Incident, Integration, Severity

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = {"critical": Severity.CRITICAL, "error": Severity.HIGH, "warning": Severity.MEDIUM, "info": Severity.LOW}
DEDUP_KEY_MAX = 200


class NoOpenIncident(exceptions.NotFound):
    pass


def _trigger_signal(event: dict, *, dedup_key: str, integration: Integration, now) -> AlertSignal:
    payload = f.obj(f.required(event, "payload", "payload"), "payload")
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


@extend_schema(
    request={"application/json": dict},
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
    "payload.severity is critical | error | warning | info. 404 when acknowledge or resolve finds no open "
    "incident for the dedup_key.",
)
class EventsView(IntakeView):
    integration_kind = Integration.Kind.EVENTS
    token_in_body = True

    def post(self, request):
        event = self.read_json(request)
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
            if incident is None:
                raise NoOpenIncident(f"dedup_key: no open incident for {given!r}")
            if action == "acknowledge":
                incident_acknowledge(incident=incident, actor=None, now=now)
            else:
                incident_resolve(incident=incident, actor=None, now=now, message="resolved through the events API")
        return Response(
            {"status": "success", "message": "Event processed", "dedup_key": given}, status=status.HTTP_202_ACCEPTED
        )
