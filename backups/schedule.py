"""Cron times of a plan, in its own time zone (so '0 2 * * *' stays 02:00 local across DST)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim


def next_time(cron: str, time_zone: str, *, after: datetime) -> datetime:
    local = after.astimezone(ZoneInfo(time_zone))
    # Aware datetimes sharing a zone compare by wall time, so leave the zone at once.
    return next(CronSim(cron, local)).astimezone(UTC)


def previous_time(cron: str, time_zone: str, *, at_or_before: datetime) -> datetime:
    # cronsim's reverse iteration yields times strictly before its start.
    local = (at_or_before + timedelta(seconds=1)).astimezone(ZoneInfo(time_zone))
    return next(CronSim(cron, local, reverse=True)).astimezone(UTC)
