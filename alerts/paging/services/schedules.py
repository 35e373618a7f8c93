"""Who is on call: layers of rotations, daily restrictions, overrides, and the shifts ahead.

Rotations are counted in the schedule's local wall-clock time, so a weekly rotation that
hands off at 09:00 keeps handing off at 09:00 across a daylight-saving change (that week
is an hour shorter or longer), the way people read a rota. A local time that happens twice
(autumn) means its first occurrence; one that does not exist (the spring-forward gap) is
read with the offset from before the jump, so 02:30 becomes 03:30 (PEP 495's fold=0).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone

from alerts.models import OnCallLayer, OnCallOverride, OnCallSchedule

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

SHIFTS_HORIZON = timedelta(days=60)
# How far ahead a layer may start: the shift arithmetic adds turns to the start, and a start near
# year 9999 overflows Python's dates; no rotation is planned decades ahead.
LAYER_START_REACH = timedelta(days=10 * 366)


@dataclass(frozen=True)
class Shift:
    users: tuple["User", ...]  # several only when overrides overlap
    starts_at: datetime
    ends_at: datetime | None  # None: beyond the horizon looked at


def time_zone_validate(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": f"{name!r} is not a known time zone, e.g. Europe/Berlin"}) from None


def layer_validate(
    *, users: list[str], restrict_start: time | None, restrict_end: time | None, starts_at: datetime | None = None
) -> None:
    """Field errors for a layer: unknown or inactive usernames, a half or empty restriction, a
    start more than ten years ahead."""
    errors: dict[str, str] = {}
    if starts_at is not None and starts_at - timezone.now() > LAYER_START_REACH:
        errors["starts_at"] = "must be within ten years from now"
    if not isinstance(users, list) or not all(isinstance(u, str) and u for u in users):
        errors["users"] = "expected a list of usernames"
    elif not users:
        errors["users"] = "a layer needs at least one user"
    else:
        User = get_user_model()
        known = set(
            User.objects.filter(**{f"{User.USERNAME_FIELD}__in": users, "is_active": True}).values_list(
                User.USERNAME_FIELD, flat=True
            )
        )
        unknown = [u for u in users if u not in known]
        if unknown:
            errors["users"] = f"no active user {', '.join(unknown)}"
    if (restrict_start is None) != (restrict_end is None):
        field = "restrict_end" if restrict_end is None else "restrict_start"
        errors[field] = "a daily restriction needs both a start and an end"
    elif restrict_start is not None and restrict_start == restrict_end:
        errors["restrict_end"] = "the restriction must end at another time than it starts"
    if errors:
        raise ValidationError(errors)


class _Plan:
    """A schedule loaded once (layers, overrides, users), asked many times without queries."""

    def __init__(
        self,
        schedule: OnCallSchedule,
        *,
        overrides_from: datetime,
        overrides_to: datetime,
        users: dict[str, "User"] | None = None,
    ) -> None:
        self.tz = _zone(schedule.time_zone)
        self.layers = sorted(
            schedule.layers.all() if _prefetched(schedule, "layers") else OnCallLayer.objects.filter(schedule=schedule),
            key=lambda layer: (-layer.priority, layer.pk),
        )
        overrides = (
            schedule.overrides.all()
            if _prefetched(schedule, "overrides")
            else OnCallOverride.objects.filter(schedule=schedule).select_related("user")
        )
        self.overrides = [o for o in overrides if o.ends_at > overrides_from and o.starts_at < overrides_to]
        self.users = (
            users if users is not None else users_by_name({name for layer in self.layers for name in _usernames(layer)})
        )

    def at(self, moment: datetime) -> tuple["User", ...]:
        overriding = tuple(o.user for o in self.overrides if o.starts_at <= moment < o.ends_at and o.user.is_active)
        if overriding:
            return overriding
        for layer in self.layers:
            name = self._layer_user(layer, moment)
            if name is not None and name in self.users:
                return (self.users[name],)
        return ()

    def _layer_user(self, layer: OnCallLayer, moment: datetime) -> str | None:
        names = _usernames(layer)
        if not names or moment < layer.starts_at:
            return None
        if layer.restrict_start is not None and layer.restrict_end is not None:
            if not _within(moment.astimezone(self.tz).time(), layer.restrict_start, layer.restrict_end):
                return None
        return names[self._turn(layer, moment) % len(names)]

    def _turn(self, layer: OnCallLayer, moment: datetime) -> int:
        return _turn(layer, moment, self.tz)

    def handoff(self, layer: OnCallLayer, turn: int) -> datetime:
        return _handoff(layer, turn, self.tz)

    def changes(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in (start, end) at which who is on call may change."""
        points: set[datetime] = set()
        for override in self.overrides:
            points.update((override.starts_at, override.ends_at))
        for layer in self.layers:
            points.add(layer.starts_at)
            turn = self._turn(layer, max(start, layer.starts_at))
            while (handoff := self.handoff(layer, turn)) < end:
                points.add(handoff)
                turn += 1
            if layer.restrict_start is not None and layer.restrict_end is not None:
                day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
                while day <= last:
                    for edge in (layer.restrict_start, layer.restrict_end):
                        points.add(_instant(datetime.combine(day, edge), self.tz))
                    day += timedelta(days=1)
        return sorted(p for p in points if start < p < end)


def users_by_name(names: Iterable[str]) -> dict[str, "User"]:
    User = get_user_model()
    return {
        getattr(u, User.USERNAME_FIELD): u
        for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": set(names), "is_active": True})
    }


def schedules_prefetched(*, start: datetime, end: datetime) -> QuerySet[OnCallSchedule]:
    """Schedules with their layers and the overrides that touch [start, end), for pages that
    show many: pass `users=users_by_name(...)` of all their layers to keep it three queries."""
    return OnCallSchedule.objects.prefetch_related(
        "layers",
        Prefetch(
            "overrides",
            queryset=OnCallOverride.objects.filter(ends_at__gt=start, starts_at__lt=end).select_related("user"),
        ),
    )


def oncall_users(*, schedule: OnCallSchedule, at: datetime) -> list["User"]:
    """Who is on call in `schedule` at `at`: an override if one covers it, else the highest
    priority layer that has someone then; empty when nobody is."""
    return list(_Plan(schedule, overrides_from=at, overrides_to=at + timedelta(microseconds=1)).at(at))


def oncall_shifts(
    *,
    schedule: OnCallSchedule,
    start: datetime,
    count: int = 5,
    horizon: timedelta = SHIFTS_HORIZON,
    users: dict[str, "User"] | None = None,
) -> list[Shift]:
    """The shift running at `start` and those after it, up to `count`, within `horizon`.
    Stretches with nobody on call are left out; their gap shows between the shifts."""
    end = start + horizon
    plan = _Plan(schedule, overrides_from=start, overrides_to=end, users=users)
    shifts: list[Shift] = []
    current: tuple[User, ...] | None = plan.at(start)
    since = start
    for point in [*plan.changes(start, end), end]:
        on_call = plan.at(point) if point < end else None
        if on_call == current:
            continue
        if current:
            shifts.append(Shift(users=current, starts_at=since, ends_at=point if point < end else None))
            if len(shifts) >= count:
                break
        current, since = on_call, point
    return shifts


@dataclass(frozen=True)
class Handoff:
    at: datetime
    username: str  # who takes over


def layer_handoffs(*, layer: OnCallLayer, time_zone: str, start: datetime, count: int = 5) -> list[Handoff]:
    """The layer's next `count` handoffs from `start` (its first turn when it starts later), each
    with who takes over; what the layer form previews. Overrides and restrictions are left out:
    this is the rotation as entered."""
    names = _usernames(layer)
    if not names or not layer.rotation_seconds or layer.starts_at is None:
        return []
    tz = _zone(time_zone)
    turn = 0 if start < layer.starts_at else _turn(layer, start, tz) + 1
    return [Handoff(_handoff(layer, t, tz), names[t % len(names)]) for t in range(turn, turn + count)]


def _turn(layer: OnCallLayer, moment: datetime, tz: ZoneInfo) -> int:
    rotation = timedelta(seconds=layer.rotation_seconds)
    turn = int((_wall(moment, tz) - _wall(layer.starts_at, tz)) / rotation)
    # Wall clocks repeat an hour in autumn: settle the turn on real instants.
    while turn > 0 and moment < _handoff(layer, turn, tz):
        turn -= 1
    while moment >= _handoff(layer, turn + 1, tz):
        turn += 1
    return turn


def _handoff(layer: OnCallLayer, turn: int, tz: ZoneInfo) -> datetime:
    wall = _wall(layer.starts_at, tz) + turn * timedelta(seconds=layer.rotation_seconds)
    return _instant(wall, tz)


def _usernames(layer: OnCallLayer) -> list[str]:
    return [u for u in layer.users if isinstance(u, str)] if isinstance(layer.users, list) else []


def _prefetched(instance: Model, name: str) -> bool:
    return name in getattr(instance, "_prefetched_objects_cache", {})


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # refused in the admin; a bad row must not stop a page


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _instant(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _within(local: time, start: time, end: time) -> bool:
    if start < end:
        return start <= local < end
    return local >= start or local < end  # crosses midnight, e.g. 22:00–06:00
