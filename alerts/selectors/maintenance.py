"""The maintenance calendar: which windows are open on which days."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from alerts.models import MaintenanceWindow
from alerts.services.noise import Occurrence, window_occurrences


@dataclass(frozen=True)
class CalendarDay:
    day: date
    occurrences: list[Occurrence]


def maintenance_calendar(*, start: date, days: int = 30, time_zone: str = "UTC") -> list[CalendarDay]:
    """Each day from `start` (in `time_zone`) with the windows that are open during it, in order
    of their start; a window crossing midnight shows on both days."""
    tz = zoneinfo.ZoneInfo(time_zone)
    begin = datetime.combine(start, time(), tz)
    end = datetime.combine(start + timedelta(days=days), time(), tz)
    windows = MaintenanceWindow.objects.select_related("project", "target", "tag").filter(starts_at__lt=end)
    occurrences = sorted((o for w in windows for o in window_occurrences(window=w, start=begin, end=end)),
                         key=lambda o: (o.starts_at, o.window.name))
    calendar = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        day_start, day_end = datetime.combine(day, time(), tz), datetime.combine(day + timedelta(days=1), time(), tz)
        calendar.append(CalendarDay(day, [o for o in occurrences if o.starts_at < day_end and o.ends_at > day_start]))
    return calendar
