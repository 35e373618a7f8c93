"""Heartbeat pings and the detector of late, missing, failed and badly timed runs.

A heartbeat is late (degraded) once its expected ping is overdue, and missing (down) once
the grace period has passed too. A failure ping, a non-zero exit code, a run longer than
`max_runtime` or shorter than `min_runtime` is down at once. Flips carry the exact time
the rule was broken (the deadline itself), not the time the detector happened to look, and
which rule it was as their cause; they are written by the one flip writer
(monitoring.uptime.services.flips), which Sentry check-ins reach through these pings too.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from cronsim import CronSim
from django.db import connection, transaction

from monitoring.heartbeats.models import HEARTBEAT_FIELDS
from monitoring.models import Heartbeat, HeartbeatPing, Status, Target
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.services.flips import flips_record, target_flip

PING_FIELDS = (
    "target_id",
    *HEARTBEAT_FIELDS,
    "expected_at",
    "started_at",
    "started_rid",
    "alert_after",
    "target__status",
    "target__paused",
)
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
    # The run time the job reported itself (a Sentry check-in's `duration`); when given it is
    # the run's duration, whatever the time between its start and finish arriving.
    duration: timedelta | None = None


class Verdict(NamedTuple):
    """The status a ping or a passed deadline calls for, and why."""

    status: str
    cause: FlipCause
    reason: str


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


def heartbeat_ping(*, ping_key: uuid.UUID | str, ping: Ping) -> bool:
    """Record a ping and what it means for the heartbeat; False when no heartbeat has that key.

    On PostgreSQL, in autocommit (one WAL flush each): a success ping to an up, unpaused
    heartbeat on a fixed period with no run going is one statement, a log ping one insert,
    and any other ping one read and one write. A status change, a concurrent ping that
    changed the state in between, and SQLite take the locked path.
    """
    if connection.vendor == "postgresql":
        if ping.kind == HeartbeatPing.Kind.SUCCESS and _ping_steady(ping_key, ping):
            return True
        found = _ping_in_autocommit(ping_key, ping)
        if found is not None:
            return found
    return _ping_in_transaction(ping_key, ping)


_HEARTBEAT = Heartbeat._meta.db_table
_TARGET = Target._meta.db_table
_PING_COLUMNS = (
    "heartbeat_id",
    "received_at",
    "kind",
    "exit_code",
    "rid",
    "method",
    "remote_addr",
    "user_agent",
    "body",
    "body_truncated",
    "duration_ms",
)
# Typed, because a bare NULL or string in an INSERT … SELECT list would be read as text.
_PING_VALUES = "%s::timestamptz, %s::smallint, %s::smallint, %s, %s, %s::inet, %s, %s, %s, %s::bigint"
_READ_COLUMNS = (
    "target_id",
    *HEARTBEAT_FIELDS,
    "last_ping_at",
    "expected_at",
    "started_at",
    "started_rid",
    "last_duration_ms",
    "alert_after",
)
# Hand-written SQL, because building these through the ORM cost more CPU than the database
# spent running them (about 0.4 ms per statement on this machine).
_READ_SQL = (
    f"SELECT {', '.join(f'h.{c}' for c in _READ_COLUMNS)}, t.status, t.paused FROM {_HEARTBEAT} h "
    f"JOIN {_TARGET} t ON t.id = h.target_id WHERE h.ping_key = %s AND t.kind = %s"
)
_LOG_SQL = (
    f"INSERT INTO {HeartbeatPing._meta.db_table} ({', '.join(_PING_COLUMNS)}) "
    f"SELECT h.target_id, {_PING_VALUES} FROM {_HEARTBEAT} h JOIN {_TARGET} t ON t.id = h.target_id "
    f"WHERE h.ping_key = %s AND t.kind = %s"
)
# Compare-and-set: the heartbeat takes the new state only if its run state and its target's
# status are still what the read saw; the ping row is inserted only then, in the same statement.
_WRITE_SQL = (
    f"WITH hb AS (UPDATE {_HEARTBEAT} SET {', '.join(f'{f} = %s' for f in _STATE_FIELDS)} "
    f"WHERE target_id = %s AND {' AND '.join(f'{f} IS NOT DISTINCT FROM %s' for f in _STATE_FIELDS)} "
    f"AND EXISTS (SELECT 1 FROM {_TARGET} t WHERE t.id = %s AND t.status = %s AND t.paused = %s AND t.kind = %s) "
    f"RETURNING target_id) "
    f"INSERT INTO {HeartbeatPing._meta.db_table} ({', '.join(_PING_COLUMNS)}) SELECT hb.target_id, {_PING_VALUES} "
    f"FROM hb"
)

# The steady case, worked out by the database from the row as it is when updated, so
# concurrent pings never conflict: what _apply_ping does for a success ping when no run
# is going (no duration, next ping due one period later, the detector looks then), and no
# flip because the target is up. The condition is also on the heartbeat row's own state
# (the detector looks at expected_at, not later): a concurrent update of that row makes
# PostgreSQL re-check only its conditions, and the detector's flip always moves alert_after.
_STEADY_SQL = (
    f"WITH hb AS (UPDATE {_HEARTBEAT} h SET last_ping_at = %s, "
    f"expected_at = %s::timestamptz + h.period_seconds * interval '1 second', last_duration_ms = NULL, "
    f"alert_after = %s::timestamptz + h.period_seconds * interval '1 second' "
    f"FROM {_TARGET} t WHERE t.id = h.target_id AND h.ping_key = %s AND t.kind = %s AND h.schedule = %s "
    f"AND h.started_at IS NULL AND h.alert_after = h.expected_at AND t.status = %s AND NOT t.paused "
    f"RETURNING h.target_id) "
    f"INSERT INTO {HeartbeatPing._meta.db_table} ({', '.join(_PING_COLUMNS)}) SELECT hb.target_id, {_PING_VALUES} "
    f"FROM hb"
)


def _ping_steady(ping_key: uuid.UUID | str, ping: Ping) -> bool:
    """True when the ping was the steady case and is stored; False leaves it to the other paths."""
    # bound_cursor is config.postgresql's, and this path runs on PostgreSQL only.
    bound: Any = connection
    with bound.bound_cursor() as cursor:
        cursor.execute(
            _STEADY_SQL,
            [
                ping.at,
                ping.at,
                ping.at,
                ping_key,
                Target.Kind.HEARTBEAT,
                Heartbeat.Schedule.PERIOD,
                Status.UP,
                *_ping_values(ping, duration=None),
            ],
        )
        return cursor.rowcount == 1


def _ping_in_autocommit(ping_key: uuid.UUID | str, ping: Ping) -> bool | None:
    """The usual ping without a transaction; None when it must take the locked path instead."""
    with connection.cursor() as cursor:
        if ping.kind == HeartbeatPing.Kind.LOG:
            cursor.execute(_LOG_SQL, [*_ping_values(ping, duration=None), ping_key, Target.Kind.HEARTBEAT])
            return cursor.rowcount == 1
        cursor.execute(_READ_SQL, [ping_key, Target.Kind.HEARTBEAT])
        row = cursor.fetchone()
        if row is None:
            return False
        heartbeat = Heartbeat(**dict(zip(_READ_COLUMNS, row[:-2], strict=True)))
        heartbeat.target = Target(pk=heartbeat.target_id, status=row[-2], paused=row[-1], kind=Target.Kind.HEARTBEAT)
        seen = [getattr(heartbeat, f) for f in _STATE_FIELDS]
        duration = _run_duration(heartbeat, ping)
        verdict = _apply_ping(heartbeat, ping, duration)
        if verdict is not None and not heartbeat.target.paused and verdict.status != heartbeat.target.status:
            return None  # a flip: rare, and it needs the transaction
        cursor.execute(
            _WRITE_SQL,
            [
                *(getattr(heartbeat, f) for f in _STATE_FIELDS),
                heartbeat.target_id,
                *seen,
                heartbeat.target_id,
                heartbeat.target.status,
                heartbeat.target.paused,
                Target.Kind.HEARTBEAT,
                *_ping_values(ping, duration=duration),
            ],
        )
        return True if cursor.rowcount == 1 else None  # None: another ping or the detector got there first


def _ping_values(ping: Ping, *, duration: timedelta | None) -> list[Any]:
    return [
        ping.at,
        ping.kind,
        ping.exit_code,
        ping.rid,
        ping.method,
        ping.remote_addr,
        ping.user_agent[:200],
        ping.body,
        ping.body_truncated,
        round(_seconds(duration) * 1000) if duration is not None else None,
    ]


@transaction.atomic
def _ping_in_transaction(ping_key: uuid.UUID | str, ping: Ping) -> bool:
    """Three statements in the usual case (read the heartbeat, store the ping, store its
    state); two more only when the status changes. The row is locked on PostgreSQL, so a
    concurrent ping's compare-and-set sees this one's state."""
    heartbeat = (
        Heartbeat.objects.select_related("target")
        .only(*PING_FIELDS)
        .select_for_update(of=("self",))
        .filter(ping_key=ping_key, target__kind=Target.Kind.HEARTBEAT)
        .first()
    )
    if heartbeat is None:
        return False
    duration = _run_duration(heartbeat, ping)
    HeartbeatPing.objects.create(
        heartbeat_id=heartbeat.pk, **dict(zip(_PING_COLUMNS[1:], _ping_values(ping, duration=duration), strict=True))
    )
    if ping.kind == HeartbeatPing.Kind.LOG:
        return True
    verdict = _apply_ping(heartbeat, ping, duration)
    Heartbeat.objects.filter(pk=heartbeat.pk).update(**{f: getattr(heartbeat, f) for f in _STATE_FIELDS})
    if verdict is not None and not heartbeat.target.paused:
        _flip(heartbeat.target, verdict=verdict, at=ping.at)
    return True


def _run_duration(heartbeat: Heartbeat, ping: Ping) -> timedelta | None:
    """The run time the job reported, else the time since the matching start: by rid when
    given, else the last start."""
    if ping.kind not in (HeartbeatPing.Kind.SUCCESS, HeartbeatPing.Kind.FAIL):
        return None
    if ping.duration is not None:
        return ping.duration
    if heartbeat.started_at and (not ping.rid or ping.rid == heartbeat.started_rid):
        return ping.at - heartbeat.started_at
    if ping.rid:  # runs overlap: this finish belongs to an earlier start
        started = (
            HeartbeatPing.objects.filter(
                heartbeat_id=heartbeat.pk, kind=HeartbeatPing.Kind.START, rid=ping.rid, received_at__lte=ping.at
            )
            .order_by("-received_at")
            .values_list("received_at", flat=True)
            .first()
        )
        return ping.at - started if started else None
    return None


def _apply_ping(heartbeat: Heartbeat, ping: Ping, duration: timedelta | None) -> Verdict | None:
    """Move the heartbeat's run state; returns what the ping says of its status (a start: nothing)."""
    if ping.kind == HeartbeatPing.Kind.START:
        heartbeat.started_at, heartbeat.started_rid = ping.at, ping.rid
        if heartbeat.max_runtime_seconds and not heartbeat.target.paused:
            overrun = ping.at + timedelta(seconds=heartbeat.max_runtime_seconds)
            heartbeat.alert_after = min(filter(None, [heartbeat.alert_after, overrun]))
        return None

    if heartbeat.started_at and (not ping.rid or ping.rid == heartbeat.started_rid):
        heartbeat.started_at, heartbeat.started_rid = None, ""
    heartbeat.last_ping_at = ping.at
    heartbeat.expected_at = heartbeat_next_expected(heartbeat, after=ping.at)
    heartbeat.last_duration_ms = round(_seconds(duration) * 1000) if duration is not None else None
    heartbeat.alert_after = None if heartbeat.target.paused else _next_look(heartbeat)

    if ping.kind == HeartbeatPing.Kind.FAIL:
        if ping.exit_code:
            return Verdict(Status.DOWN, FlipCause.EXIT_CODE, f"the job exited with code {ping.exit_code}")
        return Verdict(Status.DOWN, FlipCause.FAILURE_PING, "the job signalled a failure")
    if duration is not None:
        took = _seconds(duration)
        if heartbeat.max_runtime_seconds and took > heartbeat.max_runtime_seconds:
            return Verdict(
                Status.DOWN,
                FlipCause.OVER_RUNTIME,
                f"the run took {took:.0f} s, over max_runtime {heartbeat.max_runtime_seconds} s",
            )
        if heartbeat.min_runtime_seconds and took < heartbeat.min_runtime_seconds:
            return Verdict(
                Status.DOWN,
                FlipCause.UNDER_RUNTIME,
                f"the run took {took:.0f} s, under min_runtime {heartbeat.min_runtime_seconds} s",
            )
    return Verdict(Status.UP, FlipCause.RECOVERED, "ping received")


def _next_look(heartbeat: Heartbeat) -> datetime | None:
    """The earliest moment the heartbeat's status could change without a ping."""
    moments = [heartbeat.expected_at]
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        moments.append(heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds))
    return min(m for m in moments if m is not None) if any(moments) else None


def _flip(target: Target, *, verdict: Verdict, at: datetime) -> None:
    flip = target_flip(target=target, to=verdict.status, at=at, cause=verdict.cause, reason=verdict.reason)
    if flip is None:
        return
    flips_record(flips=[flip])
    Target.objects.filter(pk=target.pk).update(
        status=verdict.status, status_changed_at=at, last_error=verdict.reason[:300]
    )


def heartbeats_detect(*, now: datetime) -> int:
    """Flag every heartbeat whose deadline has passed; returns how many changed status.

    Claimed with SKIP LOCKED on PostgreSQL (BEGIN IMMEDIATE on SQLite), so two detectors
    at once never handle the same heartbeat twice.
    """
    changed = 0
    while True:
        with transaction.atomic():
            claim = (
                Heartbeat.objects.select_related("target")
                .only(*PING_FIELDS)
                .filter(alert_after__lte=now, target__paused=False)
                .order_by("alert_after")[:DETECT_CHUNK]
            )
            if connection.features.has_select_for_update_skip_locked:
                claim = claim.select_for_update(skip_locked=True, of=("self",))
            due = list(claim)
            for heartbeat in due:
                verdict, at = _deadline_verdict(heartbeat, now=now)
                if verdict is not None:
                    changed += heartbeat.target.status != verdict.status
                    _flip(heartbeat.target, verdict=verdict, at=at)
            Heartbeat.objects.bulk_update(due, ["alert_after"], batch_size=500)
        if len(due) < DETECT_CHUNK:
            return changed


def _deadline_verdict(heartbeat: Heartbeat, *, now: datetime) -> tuple[Verdict | None, datetime]:
    """Which deadline has passed, if any, and when it did; also sets when to look next."""
    grace = timedelta(seconds=heartbeat.grace_seconds)
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        overrun = heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds)
        if now >= overrun:
            heartbeat.alert_after = None
            return Verdict(
                Status.DOWN,
                FlipCause.OVER_RUNTIME,
                f"the run started at {heartbeat.started_at:%Y-%m-%d %H:%M:%S} UTC is still going after "
                f"max_runtime {heartbeat.max_runtime_seconds} s",
            ), overrun
    expected = heartbeat.expected_at
    if expected and now >= expected + grace:
        heartbeat.alert_after = None
        return Verdict(
            Status.DOWN,
            FlipCause.MISSING,
            f"missing: no ping since the one due at {expected:%Y-%m-%d %H:%M:%S} UTC, "
            f"grace {heartbeat.grace_seconds} s",
        ), expected + grace
    if expected and now >= expected:
        heartbeat.alert_after = min(filter(None, [expected + grace, _overrun_at(heartbeat)]))
        return Verdict(
            Status.DEGRADED, FlipCause.LATE, f"late: the ping due at {expected:%Y-%m-%d %H:%M:%S} UTC has not come"
        ), expected
    heartbeat.alert_after = _next_look(heartbeat)
    return None, now


def _overrun_at(heartbeat: Heartbeat) -> datetime | None:
    if heartbeat.started_at and heartbeat.max_runtime_seconds:
        return heartbeat.started_at + timedelta(seconds=heartbeat.max_runtime_seconds)
    return None
