"""What the on-call pages read: open incidents in working order, who is on call per schedule."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from alerts.models import Incident, IncidentEvent, OnCallSchedule
from alerts.paging.services.schedules import SHIFTS_HORIZON, Shift, oncall_shifts, schedules_prefetched, users_by_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

OPEN_LIMIT = 200
SNOOZES = {"1h": "1 hour", "4h": "4 hours", "tomorrow": "until tomorrow 09:00"}


@dataclass(frozen=True)
class ScheduleNow:
    schedule: OnCallSchedule
    now: Shift | None
    next: Shift | None


def open_incidents() -> QuerySet[Incident]:
    """Triggered first, then acknowledged; newest first within each."""
    return (
        Incident.objects.exclude(status=Incident.Status.RESOLVED)
        .select_related("project", "acknowledged_by")
        .annotate(
            firing_alerts=Count("alerts", filter=Q(alerts__status="firing")),
            working_order=Case(
                When(status=Incident.Status.TRIGGERED, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("working_order", "-opened_at", "-id")
    )


def schedules_now(*, now: datetime) -> list[ScheduleNow]:
    schedules = list(schedules_prefetched(start=now, end=now + SHIFTS_HORIZON))
    users = users_by_name(
        name
        for s in schedules
        for layer in s.layers.all()
        for name in (layer.users if isinstance(layer.users, list) else [])
        if isinstance(name, str)
    )
    rows = []
    for schedule in schedules:
        shifts = oncall_shifts(schedule=schedule, start=now, count=2, users=users)
        current = shifts[0] if shifts and shifts[0].starts_at <= now else None
        upcoming = [s for s in shifts if s is not current]
        rows.append(ScheduleNow(schedule=schedule, now=current, next=upcoming[0] if upcoming else None))
    return rows


def incidents_escalated_to(*, user: "User", limit: int = OPEN_LIMIT) -> list[Incident]:
    """Open incidents whose escalation paged `user` (read from the timeline's escalated events)."""
    events = (
        IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ESCALATED)
        .exclude(incident__status=Incident.Status.RESOLVED)
        .values_list("incident_id", "data")
    )
    # JSON containment is not portable to SQLite; open incidents' escalations are few.
    ids = {incident_id for incident_id, data in events if user.pk in (data or {}).get("user_ids", [])}
    return list(open_incidents().filter(pk__in=ids)[:limit])


def snooze_until(choice: str, *, now: datetime) -> datetime | None:
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    if choice == "tomorrow":
        local = timezone.localtime(now)
        return datetime.combine(local.date() + timedelta(days=1), time(9), tzinfo=local.tzinfo)
    return None
