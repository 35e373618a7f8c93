"""POST /api/v1/alerts/alertmanager: Alertmanager's webhook (version 4).

Point a receiver's `webhook_configs` at it with the integration's token (as `Authorization:
Bearer` via `http_config.authorization`, or `?token=` in the URL). One group (groupKey) is
one incident; each alert in it is one alert of the incident, by fingerprint. A repeated
notification appends nothing new, a resolved alert resolves its alert, and the incident
resolves when all of its alerts have. The payload is checked whole before anything is
stored: 400 names the first bad field, and nothing of that payload is kept.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from alerts.incidents.services.incidents import AlertSignal, alerts_receive
from alerts.intake.api import bodies
from alerts.intake.api import fields as f
from alerts.intake.api.common import IntakeView, PayloadInvalid
from alerts.intake.api.severities import severity_from
from alerts.models import Integration

STATUSES = ("firing", "resolved")

EXAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="ApiDown"}',
    "status": "firing",
    "receiver": "lookout",
    "groupLabels": {"alertname": "ApiDown"},
    "commonLabels": {"alertname": "ApiDown", "severity": "critical"},
    "commonAnnotations": {"summary": "API down"},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "ApiDown", "instance": "api-1", "severity": "critical"},
            "annotations": {"summary": "api-1 is down"},
            "startsAt": "2026-03-02T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "c4c5d6e7f8a9b0c1",
        }
    ],
}


def signals_from(payload: dict, *, integration: Integration, now) -> list[AlertSignal]:
    version = f.required(payload, "version", "version")
    if version != "4":
        raise PayloadInvalid("version", f'expected "4" (Alertmanager webhook v4), got {version!r}')
    group_key = f.string(f.required(payload, "groupKey", "groupKey"), "groupKey")
    f.choice(f.required(payload, "status", "status"), "status", STATUSES)
    for key in ("receiver", "externalURL"):
        if key in payload:
            f.string(payload[key], key, allow_empty=True)
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        if key in payload:
            f.string_map(payload[key], key)
    alerts = f.required(payload, "alerts", "alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadInvalid("alerts", "expected a non-empty list of alerts")
    dedup_key = f.bounded_key(f"alertmanager:{integration.pk}:", group_key)
    signals, seen = [], set()
    for index, alert in enumerate(alerts):
        path = f"alerts[{index}]"
        f.obj(alert, path)
        alert_status = f.choice(f.required(alert, "status", f"{path}.status"), f"{path}.status", STATUSES)
        labels = dict(f.string_map(f.required(alert, "labels", f"{path}.labels"), f"{path}.labels"))
        annotations = f.string_map(alert.get("annotations", {}), f"{path}.annotations")
        starts_at = f.timestamp(f.required(alert, "startsAt", f"{path}.startsAt"), f"{path}.startsAt")
        ends_at = f.timestamp(alert["endsAt"], f"{path}.endsAt") if "endsAt" in alert else None
        if "generatorURL" in alert:
            f.string(alert["generatorURL"], f"{path}.generatorURL", allow_empty=True)
        fingerprint = f.string(
            f.required(alert, "fingerprint", f"{path}.fingerprint"), f"{path}.fingerprint", max_length=64
        )
        if fingerprint in seen:
            raise PayloadInvalid(f"{path}.fingerprint", f"{fingerprint} appears twice in this payload")
        seen.add(fingerprint)
        severity = severity_from(labels.get("severity"), default=integration.default_severity)
        labels.setdefault("alertname", "alertmanager")
        labels["severity"] = labels.get("severity") or severity
        if integration.project is not None:
            labels.setdefault("project", integration.project.slug)
        summary = annotations.get("summary") or annotations.get("description") or labels["alertname"]
        resolved = alert_status == "resolved"
        signals.append(
            AlertSignal(
                source="external",
                fingerprint=fingerprint,
                dedup_key=dedup_key,
                labels=labels,
                status=alert_status,
                severity=severity,
                summary=summary[:500],
                at=(ends_at or now) if resolved else (starts_at or now),
                project_id=integration.project_id,
                integration_id=integration.pk,
            )
        )
    return signals


@extend_schema(
    request={"application/json": bodies.ALERTMANAGER},
    responses={
        202: inline_serializer(
            "AlertmanagerAccepted",
            {"status": serializers.CharField(), "incidents": serializers.ListField(child=serializers.IntegerField())},
        )
    },
    examples=[OpenApiExample("A firing group", value=EXAMPLE, request_only=True)],
    description="Alertmanager webhook v4. One group (groupKey) is one incident, alerts are matched by "
    "fingerprint, resolved alerts resolve. Strictly checked: 400 names the bad field, and nothing is stored. "
    "Fields Lookout does not read (newer Alertmanager versions add some) are accepted and ignored, so an "
    "Alertmanager upgrade never stops paging.",
)
class AlertmanagerView(IntakeView):
    integration_kind = Integration.Kind.ALERTMANAGER

    def post(self, request):
        payload = self.read_json(request)
        now = timezone.now()
        signals = signals_from(payload, integration=request.auth, now=now)
        incidents = self.atomically(lambda: alerts_receive(signals=signals, now=now))
        return Response({"status": "accepted", "incidents": [i.pk for i in incidents]}, status=status.HTTP_202_ACCEPTED)
