"""Heartbeat pings and the detector of late, missing, failed and badly timed runs.

A heartbeat is late (degraded) once its expected ping is overdue, and missing (down) once
the grace period has passed too. A failure ping, a non-zero exit code, a run longer than
`max_runtime` or shorter than `min_runtime` is down at once. Flips carry the exact time
the rule was broken (the deadline itself), not the time the detector happened to look.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim
from django.db import connection, transaction

from monitoring.models import Flip, Heartbeat, HeartbeatPing, Status, Target

PING_FIELDS = ("target_id", "schedule", "period_seconds", "cron", "time_zone", "grace_seconds",
               "max_runtime_seconds", "min_runtime_seconds", "expected_at", "started_at", "started_rid",
               "alert_after", "target__status", "target__paused")
_STATE_FIELDS = ["last_ping_at", "expected_at", "started_at", "started_rid", "last_duration_ms", "alert_after"]
DETECT_CHUNK = 1000


@dataclass(frozen=True)
class Ping:
    kind: int
    at: datetime
    exit_code: int | None = None
    rid: str = ""
    body: str = ""
    body_truncated: bool = False
    method: str = "GET"
    remote_addr: str | None = None
    user_agent: str = ""


def heartbeat_next_expected(heartbeat: Heartbeat, *, after: datetime) -> datetime:
    """When the next ping is due after one at `after`: a fixed period, or the next cron time
    in the heartbeat's zone (so '0 3 * * *' stays at 03:00 local across DST changes)."""
    if heartbeat.schedule == Heartbeat.Schedule.CRON:
        local = after.astimezone(ZoneInfo(heartbeat.time_zone))
        # Aware datetimes sharing a zone compare by wall time, so leave the zone at once.
        return next(CronSim(heartbeat.cron, local)).astimezone(UTC)
    return after.astimezone(UTC) + timedelta(seconds=heartbeat.period_seconds)


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


@transaction.atomic
def heartbeat_ping(*, ping_key, ping: Ping) -> bool:
    """Record a ping and what it means for the heartbeat; False when no heartbeat has that key.

    Three statements in the usual case (read the heartbeat, store the ping, store its
    state); two more only when the status changes.
    """
    heartbeat = (Heartbeat.objects.select_related("target").only(*PING_FIELDS)
                 .filter(ping_key=ping_key, target__kind=Target.Kind.HEARTBEAT).first())
    if heartbeat is None:
        return False
    duration = _run_duration(heartbeat, ping)
    HeartbeatPing.objects.create(
        heartbeat_id=heartbeat.pk, received_at=ping.at, kind=ping.kind, exit_code=ping.exit_code, rid=ping.rid,
        method=ping.method, remote_addr=ping.remote_addr, user_agent=ping.user_agent[:200], body=ping.body,
        body_truncated=ping.body_truncated,
        duration_ms=round(_seconds(duration) * 1000) if duration is not None else None,
    )
    if ping.kind == HeartbeatPing.Kind.LOG:
        return True
    status, reason = _apply_ping(heartbeat, ping, duration)
    Heartbeat.objects.filter(pk=heartbeat.pk).update(**{f: getattr(heartbeat, f) for f in _STATE_FIELDS})
    if status and not heartbeat.target.paused:
        _flip(heartbeat.target, to=status, at=ping.at, reason=reason)
    return True


def _run_duration(heartbeat: Heartbeat, ping: Ping) -> timedelta | None:
    """Time since the matching start: by rid when given, else the last start."""
    if ping.kind not in (HeartbeatPing.Kind.SUCCESS, HeartbeatPing.Kind.FAIL):
        return None
    if heartbeat.started_at and (not ping.rid or ping.rid == heartbeat.started_rid):
        return ping.at - heartbeat.started_at
    if ping.rid:  # runs overlap: this finish belongs to an earlier start
        started = (HeartbeatPing.objects.filter(heartbeat_id=heartbeat.pk, kind=HeartbeatPing.Kind.START,
                                                rid=ping.rid, received_at__lte=ping.at)
                   .order_by("-received_at").values_list("received_at", flat=True).first())
        return ping.at - started if started else None
    return None


def _apply_ping(heartbeat: Heartbeat, ping: Ping, duration: timedelta | None) -> tuple[str | None, str]:
    """Move the heartbeat's run state; returns (new status or None, reason)."""
    if ping.kind == HeartbeatPing.Kind.START:
        heartbeat.started_at, heartbeat.started_rid = ping.at, ping.rid
        if heartbeat.max_runtime_seconds and not heartbeat.target.paused:
            overrun = ping.at + timedelta(seconds=heartbeat.max_runtime_seconds)
            heartbeat.alert_after = min(filter(None, [heartbeat.alert_after, overrun]))
        return None, ""

    if heartbeat.started_at and (not ping.rid or ping.rid == heartbeat.started_rid):
        heartbeat.started_at, heartbeat.started_rid = None, ""
    heartbeat.last_ping_at = ping.at
    heartbeat.expected_at = heartbeat_next_expected(heartbeat, after=ping.at)
    heartbeat.last_duration_ms = round(_seconds(duration) * 1000) if duration is not None else None
    heartbeat.alert_after = None if heartbeat.target.paused else _next_look(heartbeat)

    if ping.kind == HeartbeatPing.Kind.FAIL:
        if ping.exit_code:
            return Status.DOWN, f"the job exited with code {ping.exit_code}"
        return Status.DOWN, "the job signalled a failure"
    if duration is not None:
        took = _seconds(duration)
        if heartbeat.max_runtime_seconds and took > heartbeat.max_runtime_seconds:
            return Status.DOWN, f"the run took {took:.0f} s, over max_runtime {heartbeat.max_runtime_seconds} s"
        if heartbeat.min_runtime_seconds and took < heartbeat.min_runtime_seconds:
            return Status.DOWN, f"the run took {took:.0f} s, under min_runtime {heartbeat.min_runtime_seconds} s"
    return Status.UP, "ping received"


def _next_look(heartbeat: Heartbeat) -> datetime | None:
    """The earliest moment the heartbeat's status could change without a ping."""
    moments = [heartbeat.expected_at]
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        moments.append(heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds))
    return min(m for m in moments if m is not None) if any(moments) else None


def _flip(target: Target, *, to: str, at: datetime, reason: str) -> None:
    if target.status == to:
        return
    Flip.objects.create(target_id=target.pk, at=at, old_status=target.status, new_status=to, reason=reason)
    Target.objects.filter(pk=target.pk).update(status=to, status_changed_at=at, last_error=reason[:300])
    target.status = to


def heartbeats_detect(*, now: datetime) -> int:
    """Flag every heartbeat whose deadline has passed; returns how many changed status.

    Claimed with SKIP LOCKED on PostgreSQL (BEGIN IMMEDIATE on SQLite), so two detectors
    at once never handle the same heartbeat twice.
    """
    changed = 0
    while True:
        with transaction.atomic():
            due = (Heartbeat.objects.select_related("target").only(*PING_FIELDS)
                   .filter(alert_after__lte=now, target__paused=False).order_by("alert_after")[:DETECT_CHUNK])
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            due = list(due)
            for heartbeat in due:
                status, at, reason = _deadline_verdict(heartbeat, now=now)
                if status:
                    changed += heartbeat.target.status != status
                    _flip(heartbeat.target, to=status, at=at, reason=reason)
            Heartbeat.objects.bulk_update(due, ["alert_after"], batch_size=500)
        if len(due) < DETECT_CHUNK:
            return changed


def _deadline_verdict(heartbeat: Heartbeat, *, now: datetime) -> tuple[str | None, datetime, str]:
    """Which deadline has passed, if any; also sets when to look next."""
    grace = timedelta(seconds=heartbeat.grace_seconds)
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        overrun = heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds)
        if now >= overrun:
            heartbeat.alert_after = None
            return (Status.DOWN, overrun,
                    f"the run started at {heartbeat.started_at:%Y-%m-%d %H:%M:%S} UTC is still going after "
                    f"max_runtime {heartbeat.max_runtime_seconds} s")
    expected = heartbeat.expected_at
    if expected and now >= expected + grace:
        heartbeat.alert_after = None
        return (Status.DOWN, expected + grace,
                f"missing: no ping since the one due at {expected:%Y-%m-%d %H:%M:%S} UTC, "
                f"grace {heartbeat.grace_seconds} s")
    if expected and now >= expected:
        heartbeat.alert_after = min(filter(None, [expected + grace, _overrun_at(heartbeat)]))
        return Status.DEGRADED, expected, f"late: the ping due at {expected:%Y-%m-%d %H:%M:%S} UTC has not come"
    heartbeat.alert_after = _next_look(heartbeat)
    return None, now, ""


def _overrun_at(heartbeat: Heartbeat) -> datetime | None:
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        return heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds)
    return None
