"""Incidents: alerts grouped by dedup key, and what people do to them.

Every write leaves an IncidentEvent, so the timeline answers "who did what, when". When to
notify is not decided here: these functions only move the incident's `next_notify_at`
clock (alerts.incidents.services.rounds owns the three timers and sends the rounds).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alerts.delivery.services.nudges import nudge_after_commit
from alerts.models import AlertRule, EscalationPolicy, Incident, IncidentAlert, IncidentEvent, Integration, Severity

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

NOTIFY_TASK = "incidents.notify_due"
# External senders (Alertmanager, the events API) have already waited and grouped.
INTEGRATION_GROUP_WAIT_SECONDS = 0


@dataclass(frozen=True)
class AlertSignal:
    source: str
    fingerprint: str
    dedup_key: str
    labels: dict[str, str]
    status: str
    severity: str
    summary: str
    at: datetime
    value: float | None = None
    project_id: int | None = None
    rule_id: int | None = None
    integration_id: int | None = None
    channel_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class _Routing:
    rule: AlertRule | None
    integration: Integration | None
    channel_ids: list[int]
    policy: EscalationPolicy | None
    auto_resolve: bool
    group_wait: int
    group_interval: int
    repeat_interval: int


def alerts_receive(*, signals: Iterable[AlertSignal], now: datetime) -> list[Incident]:
    """Open, append to, or resolve incidents from alert signals; returns the incidents touched.

    Signals are handled per dedup key, each key in its own transaction, so one bad key does
    not hold the others' locks longer than it needs to."""
    by_key: dict[str, list[AlertSignal]] = defaultdict(list)
    for signal in signals:
        by_key[signal.dedup_key].append(signal)
    touched: list[Incident] = []
    for dedup_key, key_signals in by_key.items():
        incident = _receive_for_key(dedup_key=dedup_key, signals=key_signals, now=now)
        if incident is not None:
            touched.append(incident)
    return touched


@transaction.atomic
def _receive_for_key(*, dedup_key: str, signals: list[AlertSignal], now: datetime) -> Incident | None:
    incident = _open_incident_locked(dedup_key)
    opened = changed = False
    for signal in signals:
        if signal.status == "firing":
            first = False
            if incident is None:
                incident, opened = _incident_open(signal=signal, now=now)
                first = opened
            changed |= _alert_fire(incident=incident, signal=signal, now=now, first=first)
        elif incident is not None:
            changed |= _alert_resolve(incident=incident, signal=signal)
    if incident is None:
        return None
    alerts = list(incident.alerts.all())
    incident.severity = _worst(alert.severity for alert in alerts)
    incident.labels = _shared_labels(alert.labels for alert in alerts)
    fields = ["severity", "labels"]
    if incident.auto_resolve and all(a.status == IncidentAlert.Status.RESOLVED for a in alerts):
        _mark_resolved(incident=incident, actor=None, now=now, message="every alert resolved")
        fields += ["status", "resolved_at", "resolved_by", "next_escalation_at", "snoozed_until"]
    if changed and not opened:
        notify_change(incident=incident, now=now)
    fields.append("next_notify_at")
    incident.save(update_fields=fields)
    if incident.next_notify_at is not None and incident.next_notify_at <= now:
        # A round due now (group wait 0, as for pages): sent after commit, not on the next tick.
        nudge_after_commit(NOTIFY_TASK, queue="default")
    if opened:
        _start_escalation(incident=incident, now=now)
    return incident


def _open_incident_locked(dedup_key: str) -> Incident | None:
    return (
        Incident.objects.select_for_update()
        .filter(dedup_key=dedup_key)
        .exclude(status=Incident.Status.RESOLVED)
        .first()
    )


def _incident_open(*, signal: AlertSignal, now: datetime) -> tuple[Incident, bool]:
    """Create the open incident for the signal's key; a concurrent receiver that won the race
    (the one-open-per-key constraint) hands us its incident instead."""
    routing = _routing(signal)
    incident = Incident(
        project_id=signal.project_id,
        title=(signal.summary or signal.labels.get("alertname", signal.dedup_key))[:500],
        severity=signal.severity,
        source=signal.source,
        dedup_key=signal.dedup_key,
        labels=dict(signal.labels),
        rule=routing.rule,
        integration=routing.integration,
        auto_resolve=routing.auto_resolve,
        opened_at=now,
        group_interval_seconds=routing.group_interval,
        repeat_interval_seconds=routing.repeat_interval,
        next_notify_at=now + timedelta(seconds=routing.group_wait),
    )
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError:
        winner = _open_incident_locked(signal.dedup_key)
        if winner is None:
            raise
        return winner, False
    if routing.channel_ids:
        incident.channels.set(routing.channel_ids)
    return incident, True


def _routing(signal: AlertSignal) -> _Routing:
    rule = integration = None
    if signal.rule_id is not None:
        rule = AlertRule.objects.select_related("escalation_policy").filter(pk=signal.rule_id).first()
    if signal.integration_id is not None:
        integration = Integration.objects.select_related("escalation_policy").filter(pk=signal.integration_id).first()
    if signal.channel_ids is not None:
        channel_ids = list(signal.channel_ids)
    elif rule is not None:
        channel_ids = list(rule.channels.values_list("pk", flat=True))
    elif integration is not None:
        channel_ids = list(integration.channels.values_list("pk", flat=True))
    else:
        channel_ids = []
    if rule is not None:
        return _Routing(
            rule,
            integration,
            channel_ids,
            rule.escalation_policy,
            rule.auto_resolve,
            rule.group_wait_seconds,
            rule.group_interval_seconds,
            rule.repeat_interval_seconds,
        )
    defaults = Incident()
    return _Routing(
        None,
        integration,
        channel_ids,
        integration.escalation_policy if integration else None,
        True,
        INTEGRATION_GROUP_WAIT_SECONDS,
        defaults.group_interval_seconds,
        defaults.repeat_interval_seconds,
    )


def _alert_fire(*, incident: Incident, signal: AlertSignal, now: datetime, first: bool) -> bool:
    """Upsert the alert by fingerprint; True when the incident's alert set changed."""
    alert = incident.alerts.filter(fingerprint=signal.fingerprint).first()
    data = {"fingerprint": signal.fingerprint, "labels": signal.labels, "severity": signal.severity}
    if alert is None:
        IncidentAlert.objects.create(
            incident=incident,
            fingerprint=signal.fingerprint,
            labels=dict(signal.labels),
            summary=signal.summary[:500],
            severity=signal.severity,
            value=signal.value,
            starts_at=signal.at,
            last_seen_at=now,
        )
        kind = IncidentEvent.Kind.FIRED if first else IncidentEvent.Kind.APPENDED
        IncidentEvent.objects.create(incident=incident, at=now, kind=kind, message=signal.summary, data=data)
        return True
    refired = alert.status == IncidentAlert.Status.RESOLVED
    alert.labels, alert.summary, alert.value = dict(signal.labels), signal.summary[:500], signal.value
    alert.severity, alert.last_seen_at = signal.severity, now
    if refired:
        alert.status, alert.starts_at, alert.ends_at = IncidentAlert.Status.FIRING, signal.at, None
        IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=IncidentEvent.Kind.APPENDED,
            message=f"fired again: {signal.summary}",
            data={**data, "refired": True},
        )
    alert.save()
    return refired


def _alert_resolve(*, incident: Incident, signal: AlertSignal) -> bool:
    return bool(
        incident.alerts.filter(fingerprint=signal.fingerprint, status=IncidentAlert.Status.FIRING).update(
            status=IncidentAlert.Status.RESOLVED, ends_at=signal.at
        )
    )


def _worst(severities: Iterable[str]) -> str:
    return max(severities, key=lambda s: Severity(s).rank, default=Severity.HIGH)


def _shared_labels(label_sets: Iterable[dict[str, str]]) -> dict[str, str]:
    shared: dict[str, str] | None = None
    for labels in label_sets:
        shared = dict(labels) if shared is None else {k: v for k, v in shared.items() if labels.get(k) == v}
    return shared or {}


def notify_change(*, incident: Incident, now: datetime) -> None:
    """Something a person should hear about changed: tell them at the next group interval
    (Alertmanager's rule), or with the first notification if group wait is still running."""
    if incident.last_notified_at is None and incident.next_notify_at is not None:
        return
    earliest = now
    if incident.last_notified_at is not None:
        earliest = max(now, incident.last_notified_at + timedelta(seconds=incident.group_interval_seconds))
    if incident.snoozed_until is not None:
        earliest = max(earliest, incident.snoozed_until)  # a person asked for quiet until then
    if incident.next_notify_at is None or earliest < incident.next_notify_at:
        incident.next_notify_at = earliest


def _mark_resolved(*, incident: Incident, actor: "User | None", now: datetime, message: str) -> None:
    incident.status = Incident.Status.RESOLVED
    incident.resolved_at, incident.resolved_by = now, actor
    incident.next_escalation_at = None
    incident.snoozed_until = None
    IncidentEvent.objects.create(
        incident=incident, at=now, kind=IncidentEvent.Kind.RESOLVED, actor=actor, message=message
    )
    notify_change(incident=incident, now=now)


def escalation_policy_for(incident: Incident) -> EscalationPolicy | None:
    # A relation whose id is None is None without a query.
    if incident.rule is not None and incident.rule.escalation_policy_id:
        return incident.rule.escalation_policy
    if incident.integration is not None and incident.integration.escalation_policy_id:
        return incident.integration.escalation_policy
    return None


def _start_escalation(*, incident: Incident, now: datetime) -> None:
    policy = escalation_policy_for(incident)
    if policy is None:
        return
    # Imported here: the paging branch owns escalation, and incidents work without it.
    from alerts.paging.services.escalation import escalation_start

    escalation_start(incident=incident, policy=policy, now=now)


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update(of=("self",)).select_related("rule", "integration").get(pk=incident.pk)


@transaction.atomic
def incident_acknowledge(*, incident: Incident, actor: "User | None", now: datetime) -> Incident:
    incident = _locked(incident)
    if incident.status != Incident.Status.TRIGGERED:
        if incident.status == Incident.Status.RESOLVED:
            raise ValidationError("A resolved incident cannot be acknowledged; reopen it first.")
        return incident
    incident.status = Incident.Status.ACKNOWLEDGED
    incident.acknowledged_at, incident.acknowledged_by = now, actor
    incident.next_escalation_at = None
    incident.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "next_escalation_at"])
    IncidentEvent.objects.create(incident=incident, at=now, kind=IncidentEvent.Kind.ACKNOWLEDGED, actor=actor)
    return incident


@transaction.atomic
def incident_resolve(*, incident: Incident, actor: "User | None", now: datetime, message: str = "") -> Incident:
    incident = _locked(incident)
    if incident.status == Incident.Status.RESOLVED:
        return incident
    _mark_resolved(incident=incident, actor=actor, now=now, message=message)
    incident.save(
        update_fields=["status", "resolved_at", "resolved_by", "next_escalation_at", "snoozed_until", "next_notify_at"]
    )
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident, actor: "User | None", now: datetime) -> Incident:
    """Back to triggered, notified again now and escalated from the start. Only one incident per
    dedup key may be open, so a key that has opened a new incident meanwhile cannot be reopened."""
    incident = _locked(incident)
    if incident.status != Incident.Status.RESOLVED:
        return incident
    other = _open_incident_locked(incident.dedup_key)
    if other is not None:
        raise ValidationError(f"Incident #{other.pk} is open for the same alerts; work that one instead.")
    incident.status = Incident.Status.TRIGGERED
    incident.resolved_at = incident.resolved_by = None
    incident.acknowledged_at = incident.acknowledged_by = None
    incident.reopened_count += 1
    incident.next_notify_at = now
    incident.notified_digest = ""
    incident.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "acknowledged_at",
            "acknowledged_by",
            "reopened_count",
            "next_notify_at",
            "notified_digest",
        ]
    )
    IncidentEvent.objects.create(incident=incident, at=now, kind=IncidentEvent.Kind.REOPENED, actor=actor)
    _start_escalation(incident=incident, now=now)
    return incident


@transaction.atomic
def incident_comment(*, incident: Incident, actor: "User", message: str, now: datetime) -> IncidentEvent:
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": "A comment needs some text."})
    return IncidentEvent.objects.create(
        incident=incident, at=now, kind=IncidentEvent.Kind.COMMENT, actor=actor, message=message
    )


@transaction.atomic
def incident_snooze(*, incident: Incident, actor: "User", until: datetime, now: datetime) -> Incident:
    """Quiet until `until`, like PagerDuty's snooze: acknowledged meanwhile, then triggered and
    notified again if it is still open (the rounds tick, incidents.notify_due, does that when the clock comes due)."""
    if until <= now:
        raise ValidationError({"until": "Snooze until a time in the future."})
    incident = _locked(incident)
    if incident.status == Incident.Status.RESOLVED:
        raise ValidationError("A resolved incident cannot be snoozed.")
    if incident.status == Incident.Status.TRIGGERED:
        incident.acknowledged_at, incident.acknowledged_by = now, actor
    incident.status = Incident.Status.ACKNOWLEDGED
    incident.snoozed_until = until
    incident.next_escalation_at = None
    incident.next_notify_at = until
    incident.save(
        update_fields=[
            "status",
            "acknowledged_at",
            "acknowledged_by",
            "snoozed_until",
            "next_escalation_at",
            "next_notify_at",
        ]
    )
    IncidentEvent.objects.create(
        incident=incident, at=now, kind=IncidentEvent.Kind.SNOOZED, actor=actor, data={"until": until.isoformat()}
    )
    return incident
