"""When an incident's channels hear about it: Alertmanager's group wait, group interval and
repeat interval, kept on the incident as one clock (`next_notify_at`).

- group wait: the first round goes out that long after the incident opened, so alerts that
  arrive meanwhile are told in one notification (set when the incident opens);
- group interval: a later change (an alert added or resolved, the incident resolved) waits
  for the next interval after the last round (alerts.incidents.services.incidents.notify_change);
- repeat interval: an unchanged, still triggered incident is told again after this long.

A round whose alerts are all muted (silence, maintenance, inhibition, dependency) is written
to the timeline as MUTED with the reason and its outbox rows are muted: seen, never sent.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from alerts.delivery.services.outbox import notifications_create
from alerts.incidents.services.incidents import escalation_policy_for
from alerts.incidents.services.noise import MuteCheck
from alerts.models import Incident, IncidentAlert, IncidentEvent

BATCH = 200


def incidents_notify_due(*, now: datetime, limit: int = BATCH) -> int:
    """Send every due round; returns how many incidents were handled. Safe to run in parallel:
    each incident is claimed under a row lock that other workers skip."""
    due = list(
        Incident.objects.filter(next_notify_at__lte=now).order_by("next_notify_at").values_list("pk", flat=True)[:limit]
    )
    return sum(incident_notify(incident_id=pk, now=now) for pk in due)


@transaction.atomic
def incident_notify(*, incident_id: int, now: datetime) -> bool:
    incident = (
        Incident.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("rule", "integration")
        .filter(pk=incident_id, next_notify_at__lte=now)
        .first()
    )
    if incident is None:
        return False
    if incident.snoozed_until is not None and incident.status != Incident.Status.RESOLVED:
        if incident.snoozed_until > now:
            incident.next_notify_at = incident.snoozed_until
            incident.save(update_fields=["next_notify_at"])
            return True
        _snooze_end(incident=incident, now=now)
    alerts = list(incident.alerts.all())
    digest = _digest(incident, alerts)
    resolved = incident.status == Incident.Status.RESOLVED
    if resolved and incident.last_notified_at is None:
        # Nobody was told it started, so nobody needs telling it ended.
        incident.next_notify_at = None
        incident.save(update_fields=["next_notify_at"])
        return True
    changed = digest != incident.notified_digest
    if not changed and (resolved or incident.status == Incident.Status.ACKNOWLEDGED):
        incident.next_notify_at = None
        incident.save(update_fields=["next_notify_at"])
        return True
    firing = [a for a in alerts if a.status == IncidentAlert.Status.FIRING]
    reason = _round_mute_reason(firing or alerts, now=now)
    if reason is not None:
        _muted_round(incident=incident, alerts=alerts, digest=digest, reason=reason, now=now)
        return True
    why = (
        "resolved"
        if resolved
        else ("repeat" if not changed else ("first" if not incident.last_notified_at else "changed"))
    )
    channels = list(incident.channels.all())
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        kind=IncidentEvent.Kind.NOTIFIED,
        message=_summary(incident, alerts, why) + ("" if channels else f" ({_without_channels(incident, now=now)})"),
        data={
            "why": why,
            "status": incident.status,
            "alerts": [_alert_data(a) for a in alerts],
            "channels": [c.pk for c in channels],
        },
    )
    notifications_create(event=event, channels=channels, now=now)
    incident.last_notified_at = now
    incident.notified_digest = digest
    incident.next_notify_at = (
        now + timedelta(seconds=incident.repeat_interval_seconds)
        if incident.status == Incident.Status.TRIGGERED
        else None
    )
    incident.save(update_fields=["last_notified_at", "notified_digest", "next_notify_at"])
    return True


def _muted_round(*, incident: Incident, alerts: list[IncidentAlert], digest: str, reason: str, now: datetime) -> None:
    """Written once per muted alert set; looked at again each group interval, so the round goes
    out soon after the mute lifts (the alert set then differs from the muted one)."""
    muted_digest = hashlib.sha256(f"muted:{digest}".encode()).hexdigest()
    if incident.notified_digest != muted_digest:
        event = IncidentEvent.objects.create(
            incident=incident,
            at=now,
            kind=IncidentEvent.Kind.MUTED,
            message=reason,
            data={"reason": reason, "status": incident.status, "alerts": [_alert_data(a) for a in alerts]},
        )
        channels = list(incident.channels.all())
        notifications_create(event=event, channels=channels, now=now, muted={c.pk: reason for c in channels})
        incident.notified_digest = muted_digest
    incident.next_notify_at = (
        None
        if incident.status == Incident.Status.RESOLVED
        else now + timedelta(seconds=incident.group_interval_seconds)
    )
    incident.save(update_fields=["notified_digest", "next_notify_at"])


def _snooze_end(*, incident: Incident, now: datetime) -> None:
    incident.snoozed_until = None
    incident.status = Incident.Status.TRIGGERED
    incident.acknowledged_at = incident.acknowledged_by = None
    incident.notified_digest = ""  # told again, as if new
    incident.save(update_fields=["snoozed_until", "status", "acknowledged_at", "acknowledged_by", "notified_digest"])
    IncidentEvent.objects.create(
        incident=incident, at=now, kind=IncidentEvent.Kind.REOPENED, message="snooze ended", data={"snooze_ended": True}
    )
    policy = escalation_policy_for(incident)
    if policy is not None:
        from alerts.paging.services.escalation import escalation_start  # paging branch; see incidents._start_escalation

        escalation_start(incident=incident, policy=policy, now=now)


def _without_channels(incident: Incident, *, now: datetime) -> str:
    """A round with no channels of its own: say where the page goes instead. A rule that pages
    only through escalation is not "not notifying"; its timeline says which step paged whom."""
    steps = incident.escalation_snapshot or []
    if not steps:
        return "no channels to notify and no escalation policy"
    paged = list(
        IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.ESCALATED)
        .order_by("-at", "-id")
        .values_list("message", flat=True)[:1]
    )
    policy = steps[0].get("policy") or "its escalation policy"
    if paged:
        return f"no channels of its own; paged through escalation {policy}: {paged[0]}"
    if incident.escalation_level >= len(steps) or incident.next_escalation_at is None:
        return f"no channels of its own; escalation {policy} has paged every step"
    wait = max(0, round((incident.next_escalation_at - now).total_seconds() / 60))
    number = steps[incident.escalation_level].get("step", incident.escalation_level + 1)
    when = "now" if wait == 0 else f"in {wait} min"
    return f"no channels of its own; escalation {policy} pages step {number} {when}"


def _round_mute_reason(alerts: list[IncidentAlert], *, now: datetime) -> str | None:
    """Muted only when every alert in the round is; the first alert's reason is the one shown."""
    check = MuteCheck(now=now)
    reasons = [check.reason(a.labels) for a in alerts]
    if reasons and all(r is not None for r in reasons):
        return reasons[0]
    return None


def _digest(incident: Incident, alerts: list[IncidentAlert]) -> str:
    # Status matters only as resolved or not: an acknowledgement is no news to the channels.
    parts = [str(incident.status == Incident.Status.RESOLVED)] + sorted(f"{a.fingerprint}:{a.status}" for a in alerts)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _alert_data(alert: IncidentAlert) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "status": alert.status,
        "severity": alert.severity,
        "labels": alert.labels,
        "summary": alert.summary,
        "value": alert.value,
    }


def _summary(incident: Incident, alerts: list[IncidentAlert], why: str) -> str:
    firing = sum(a.status == IncidentAlert.Status.FIRING for a in alerts)
    if why == "resolved":
        return f"resolved ({len(alerts)} alert{'s' if len(alerts) != 1 else ''})"
    return f"{firing} firing, {len(alerts) - firing} resolved"
