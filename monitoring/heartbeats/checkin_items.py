"""sentry-sdk's check_in items (Sentry Crons), read into heartbeat terms. Pure; no database."""

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# A check-in's status, as the heartbeat ping it stands for.
STATUSES = ("in_progress", "ok", "error")
# A run time beyond a year is a unit mistake (milliseconds sent as seconds), not a run.
MAX_DURATION_SECONDS = 31_536_000
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 604_800, "month": 2_592_000, "year": 31_536_000}


class InvalidCheckIn(ValueError):
    pass


@dataclass(frozen=True)
class CheckIn:
    monitor_slug: str
    status: str
    check_in_id: str
    # Heartbeat fields from monitor_config, or None when the SDK sent none.
    schedule: dict[str, Any] | None
    # The run time the job measured itself (a finished check-in's `duration`, in seconds).
    # It, not the gap between the start and finish arriving, is the run's duration: the SDK
    # may send both at the end of the run, or a retry may hold one back.
    duration: timedelta | None = None


def _duration(value: Any) -> timedelta | None:
    if value is None:
        return None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_DURATION_SECONDS
    ):
        raise InvalidCheckIn(f"duration must be a number of seconds from 0 to {MAX_DURATION_SECONDS}")
    return timedelta(seconds=value)


def _minutes(config: dict, name: str) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise InvalidCheckIn(f"monitor_config.{name} must be a positive number of minutes")
    return round(value * 60)


def _schedule(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    if not isinstance(config, dict) or not isinstance(config.get("schedule"), dict):
        raise InvalidCheckIn("monitor_config.schedule is required")
    schedule = config["schedule"]
    fields: dict[str, Any] = {}
    if schedule.get("type") == "crontab" and isinstance(schedule.get("value"), str):
        fields.update(schedule="cron", cron=schedule["value"].strip())
    elif schedule.get("type") == "interval":
        value, unit = schedule.get("value"), schedule.get("unit")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1 or unit not in UNIT_SECONDS:
            raise InvalidCheckIn("an interval schedule needs a whole value of at least 1 and a known unit")
        fields.update(schedule="period", period_seconds=value * UNIT_SECONDS[unit])
    else:
        raise InvalidCheckIn("monitor_config.schedule.type must be crontab or interval")
    if isinstance(config.get("timezone"), str):
        fields["time_zone"] = config["timezone"]
    # Heartbeats allow a minute of grace at least; Sentry's margin may be smaller.
    if (margin := _minutes(config, "checkin_margin")) is not None:
        fields["grace_seconds"] = max(60, margin)
    if (runtime := _minutes(config, "max_runtime")) is not None:
        fields["max_runtime_seconds"] = runtime
    return fields


def check_in_parse(payload: Any) -> CheckIn:
    if not isinstance(payload, dict):
        raise InvalidCheckIn("a check-in must be a JSON object")
    slug, status = payload.get("monitor_slug"), payload.get("status")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > 200:
        raise InvalidCheckIn("monitor_slug is required (1-200 characters)")
    if status not in STATUSES:
        raise InvalidCheckIn(f"status must be one of {', '.join(STATUSES)}")
    check_in_id = payload.get("check_in_id")
    try:
        rid = uuid.UUID(check_in_id).hex if isinstance(check_in_id, str) else ""
    except ValueError as exc:
        raise InvalidCheckIn("check_in_id must be a UUID") from exc
    return CheckIn(
        monitor_slug=slug.strip(),
        status=status,
        check_in_id=rid,
        schedule=_schedule(payload.get("monitor_config")),
        # An in-progress check-in's duration means nothing yet: the run has not finished.
        duration=None if status == "in_progress" else _duration(payload.get("duration")),
    )
