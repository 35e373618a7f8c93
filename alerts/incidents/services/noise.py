"""Noise control: what mutes an alert's notifications, and the maintenance that pauses checks.

An alert is muted, in this order of reasons, by an active silence whose matchers hold, an
open maintenance window (effect "mute") over its project, target or tag, an inhibit rule (a
firing source alert sharing the rule's `equal` labels), or a target it depends on being down.

Unlike Alertmanager, an `equal` label must be present on the alerts it compares: a label
neither has would otherwise tie together every alert without it (a critical error rate in one
project muting all warnings in another).
"""

import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cronsim import CronSim, CronSimError
from dateutil.rrule import rrule, rruleset, rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.incidents.matchers import labels_match, parse_matchers
from alerts.models import Incident, IncidentAlert, InhibitRule, MaintenanceWindow, Silence, TargetDependency
from monitoring.uptime.selectors import target_statuses
from monitoring.uptime.services.actions import targets_pause, targets_resume

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

# A recurrence is looked for this far back: a window that started earlier and is still open
# counts only if its duration is longer than this.
MAX_LOOKBACK = timedelta(days=366)


# --- silences ---------------------------------------------------------------------------


def silence_validate(
    *,
    matchers: object,
    starts_at: datetime | None,
    ends_at: datetime | None,
    created_by: "User | None",
    comment: str,
) -> list[dict[str, str]]:
    """The cleaned matchers (as dicts); ValidationError keyed by field otherwise."""
    errors: dict[str, str] = {}
    cleaned: list[dict[str, str]] = []
    try:
        cleaned = [m.as_dict() for m in parse_matchers(matchers)]
        if not cleaned:
            errors["matchers"] = "A silence needs at least one matcher; it would mute everything."
    except ValidationError as exc:
        errors["matchers"] = "; ".join(exc.messages)
    if ends_at is None:
        errors["ends_at"] = "A silence always ends: give it an end."
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    if created_by is None:
        errors["created_by"] = "Say who made the silence."
    if not (comment or "").strip():
        errors["comment"] = "Say why the silence is there."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def silence_create(
    *, matchers: object, starts_at: datetime, ends_at: datetime, created_by: "User | None", comment: str
) -> Silence:
    cleaned = silence_validate(
        matchers=matchers, starts_at=starts_at, ends_at=ends_at, created_by=created_by, comment=comment
    )
    return Silence.objects.create(
        matchers=cleaned, starts_at=starts_at, ends_at=ends_at, created_by=created_by, comment=comment.strip()
    )


def silence_expire(*, silence: Silence, now: datetime) -> Silence:
    """End it now (one not started yet ends before it begins, keeping end after start)."""
    if silence.ends_at <= now:
        return silence
    silence.starts_at = min(silence.starts_at, now - timedelta(seconds=1))
    silence.ends_at = now
    silence.save(update_fields=["starts_at", "ends_at"])
    return silence


def silences_active(*, now: datetime) -> list[Silence]:
    return list(Silence.objects.filter(starts_at__lte=now, ends_at__gt=now))


# --- maintenance windows -----------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    window: MaintenanceWindow
    starts_at: datetime
    ends_at: datetime


def maintenance_validate(
    *,
    recurrence: str,
    expression: str,
    time_zone: str,
    starts_at: datetime | None,
    until: datetime | None,
    duration_minutes: int | None,
    scoped_by: Sequence[str] = (),
) -> None:
    """ValidationError keyed by field for a window that could not be computed. `scoped_by`
    names the scope fields set (project, target, tag): a window has at most one."""
    errors: dict[str, str] = {}
    if len(scoped_by) > 1:
        for name in scoped_by:
            errors[name] = f"Choose one of {', '.join(scoped_by)}: a window covers a project, a target or a tag."
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"{time_zone!r} is not a known time zone (e.g. Europe/Berlin)."
    expression = (expression or "").strip()
    if recurrence == MaintenanceWindow.Recurrence.CRON:
        if not expression:
            errors["expression"] = "A cron window needs a cron expression, e.g. '0 2 * * SUN'."
        else:
            try:
                CronSim(expression, datetime(2000, 1, 1))
            except CronSimError as exc:
                errors["expression"] = f"Not a valid cron expression: {exc}."
    elif recurrence == MaintenanceWindow.Recurrence.RRULE:
        if not expression:
            errors["expression"] = "An RRULE window needs a rule, e.g. 'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2'."
        else:
            try:
                _rrule(expression, datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC")))
            except (ValueError, TypeError) as exc:
                errors["expression"] = f"Not a valid RRULE: {exc}."
    elif expression:
        errors["expression"] = "A one-off window has no expression; choose cron or RRULE to repeat."
    if not duration_minutes:
        errors["duration_minutes"] = "A window lasts at least a minute."
    if until is not None and starts_at is not None and until < starts_at:
        errors["until"] = "Until must be after the first start."
    if errors:
        raise ValidationError(errors)


def _rrule(expression: str, dtstart: datetime) -> rrule | rruleset:
    text = expression.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "DTSTART" in text.upper():
        raise ValueError("give the start in the window's start field, not in the rule")
    if re.search(r"FREQ=(SECONDLY|MINUTELY)\b", text.upper()):
        # Occurrences are walked from the first start: minutely over months is millions of steps.
        raise ValueError("a maintenance window repeats at most hourly")
    return rrulestr(text, dtstart=dtstart)


def window_occurrences(*, window: MaintenanceWindow, start: datetime, end: datetime) -> list[Occurrence]:
    """The window's occurrences that overlap [start, end), in order. Recurrences are computed in
    the window's time zone, so '02:00 every Sunday' stays 02:00 local across DST changes."""
    duration = timedelta(minutes=window.duration_minutes)
    if window.recurrence == MaintenanceWindow.Recurrence.ONCE:
        occurrence = Occurrence(window, window.starts_at, window.starts_at + duration)
        return [occurrence] if occurrence.starts_at < end and occurrence.ends_at > start else []
    tz = zoneinfo.ZoneInfo(window.time_zone)
    first = window.starts_at.astimezone(tz)
    search_from = max(first, (start - min(duration, MAX_LOOKBACK)).astimezone(tz))
    last_start = min(end, window.until) if window.until else end
    found: list[Occurrence] = []
    for begins in _starts(window, tz=tz, first=first, search_from=search_from):
        if begins >= last_start:
            break
        if begins + duration > start:
            begins_utc = begins.astimezone(UTC)
            found.append(Occurrence(window, begins_utc, begins_utc + duration))
    return found


def _starts(
    window: MaintenanceWindow, *, tz: zoneinfo.ZoneInfo, first: datetime, search_from: datetime
) -> Iterator[datetime]:
    if window.recurrence == MaintenanceWindow.Recurrence.CRON:
        # cronsim yields times strictly after its start; step back a second to include it.
        yield from CronSim(window.expression.strip(), search_from - timedelta(seconds=1))
        return
    rule = _rrule(window.expression, first.replace(microsecond=0))
    begins = rule.after(search_from, inc=True)
    while begins is not None:
        yield begins
        begins = rule.after(begins)


def window_open(*, window: MaintenanceWindow, now: datetime) -> Occurrence | None:
    occurrences = window_occurrences(window=window, start=now, end=now + timedelta(microseconds=1))
    return occurrences[0] if occurrences else None


def _window_covers(window: MaintenanceWindow, labels: dict[str, str], tag_targets: dict[int, set[str]]) -> bool:
    if window.target_id is not None:
        return labels.get("target_id") == str(window.target_id)
    if window.project is not None:  # no query: the windows are read with their project
        return labels.get("project") == window.project.slug
    if window.tag_id is not None:
        return labels.get("target_id") in tag_targets[window.tag_id]
    return True  # no scope: everything


def _open_windows(*, now: datetime, effect: str) -> list[Occurrence]:
    windows = (
        MaintenanceWindow.objects.filter(effect=effect, starts_at__lte=now)
        .exclude(until__lt=now - MAX_LOOKBACK)
        .select_related("project")
    )
    return [occurrence for window in windows if (occurrence := window_open(window=window, now=now))]


def window_target_ids(window: MaintenanceWindow) -> list[int]:
    if window.target_id is not None:
        return [window.target_id]
    if window.project_id is not None:
        return [s.target_id for s in target_statuses(project_id=window.project_id)]
    if window.tag is not None:
        return list(window.tag.targets.values_list("pk", flat=True))
    return [s.target_id for s in target_statuses()]


@transaction.atomic
def maintenance_pause_tick(*, now: datetime) -> dict[str, int]:
    """Pause the targets of every open "pause checks" window and resume those of closed ones.

    Each window remembers what it paused itself: a target a person had paused stays paused
    when the window closes, and one still covered by another open window is handed to it."""
    windows = list(
        MaintenanceWindow.objects.select_for_update().filter(effect=MaintenanceWindow.Effect.PAUSE, starts_at__lte=now)
    )
    wanted = {w.pk: set(window_target_ids(w)) for w in windows if window_open(window=w, now=now)}
    owned = {w.pk: set(w.paused_target_ids) for w in windows}
    to_resume: set[int] = set()
    for window in windows:
        if window.pk in wanted:
            continue
        for target_id in owned[window.pk]:
            heir = next((pk for pk, ids in wanted.items() if target_id in ids), None)
            (owned[heir] if heir is not None else to_resume).add(target_id)
        owned[window.pk] = set()
    held = set().union(*(owned[pk] for pk in wanted))
    candidates = set().union(*wanted.values()) - held
    running = {s.target_id for s in target_statuses(target_ids=sorted(candidates)) if s.status != "paused"}
    to_pause: set[int] = set()
    for pk, ids in wanted.items():
        claim = running & ids
        owned[pk] |= claim
        running -= claim
        to_pause |= claim
    paused = targets_pause(target_ids=sorted(to_pause), at=now, by="maintenance") if to_pause else 0
    resumed = targets_resume(target_ids=sorted(to_resume), at=now, by="maintenance") if to_resume else 0
    for window in windows:
        if sorted(owned[window.pk]) != sorted(window.paused_target_ids):
            window.paused_target_ids = sorted(owned[window.pk])
            window.save(update_fields=["paused_target_ids"])
    return {"paused": paused, "resumed": resumed}


# --- inhibition, dependencies, and the reason an alert is muted -----------------------------


class MuteCheck:
    """What mutes alerts at one moment, read once: a notification round asks about each of its
    alerts without reading silences, windows and rules again for every one."""

    def __init__(self, *, now: datetime) -> None:
        self.silences = [(s, parse_matchers(s.matchers)) for s in silences_active(now=now)]
        self.windows = _open_windows(now=now, effect=MaintenanceWindow.Effect.MUTE)
        self.tag_targets = {
            o.window.tag_id: {str(pk) for pk in window_target_ids(o.window)} for o in self.windows if o.window.tag_id
        }
        self.inhibit_rules = [
            (rule, parse_matchers(rule.source_matchers), parse_matchers(rule.target_matchers))
            for rule in InhibitRule.objects.filter(enabled=True)
        ]
        self._firing: list[dict[str, str]] | None = None
        self._down: dict[int, str | None] = {}

    def reason(self, labels: dict[str, str]) -> str | None:
        for silence, matchers in self.silences:
            if labels_match(matchers, labels):
                return f"silenced until {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.comment}"
        for occurrence in self.windows:
            if _window_covers(occurrence.window, labels, self.tag_targets):
                return f"maintenance {occurrence.window.name} until {occurrence.ends_at:%Y-%m-%d %H:%M} UTC"
        return self._inhibited(labels) or self._dependency_down(labels)

    def _inhibited(self, labels: dict[str, str]) -> str | None:
        for rule, source, target in self.inhibit_rules:
            equal = list(rule.equal or [])
            if not labels_match(target, labels) or any(not labels.get(name) for name in equal):
                continue
            if self._firing is None:
                self._firing = list(
                    IncidentAlert.objects.filter(status=IncidentAlert.Status.FIRING)
                    .exclude(incident__status=Incident.Status.RESOLVED)
                    .values_list("labels", flat=True)
                )
            for other in self._firing:
                if other == labels or not labels_match(source, other):
                    continue  # an alert never inhibits itself
                if all(other.get(name) == labels.get(name) for name in equal):
                    return (
                        f"inhibited by {rule.name}: {other.get('alertname', 'an alert')} "
                        f"({other.get('severity', '')}) is firing"
                    )
        return None

    def _dependency_down(self, labels: dict[str, str]) -> str | None:
        target_id = labels.get("target_id", "")
        if not target_id.isdigit():
            return None
        if int(target_id) not in self._down:
            depends_on = list(
                TargetDependency.objects.filter(target_id=int(target_id)).values_list("depends_on_id", flat=True)
            )
            down = [s for s in target_statuses(target_ids=depends_on) if s.status == "down"] if depends_on else []
            self._down[int(target_id)] = f"depends on {down[0].name}, which is down" if down else None
        return self._down[int(target_id)]


def mute_reason(*, labels: dict[str, str], now: datetime) -> str | None:
    """Why this alert's notifications are muted right now, or None when they go out."""
    return MuteCheck(now=now).reason(labels)
