"""What the admin and on-call pages read about incidents: lists, timelines, MTTA and MTTR.

The maintenance calendar: which windows are open on which days.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse

from alerts.incidents.services.noise import MuteCheck, Occurrence, window_occurrences
from alerts.models import Incident, IncidentAlert, IncidentEvent, MaintenanceWindow, Notification


def incidents_list(
    *,
    status: str | None = None,
    severity: str | None = None,
    project_id: int | None = None,
    opened_after: datetime | None = None,
    opened_before: datetime | None = None,
    open_only: bool = False,
) -> QuerySet[Incident]:
    """Newest first, with what a list row shows joined in (one query per page)."""
    incidents = Incident.objects.select_related("project", "rule", "acknowledged_by", "resolved_by")
    if open_only:
        incidents = incidents.exclude(status=Incident.Status.RESOLVED)
    if status:
        incidents = incidents.filter(status=status)
    if severity:
        incidents = incidents.filter(severity=severity)
    if project_id is not None:
        incidents = incidents.filter(project_id=project_id)
    if opened_after is not None:
        incidents = incidents.filter(opened_at__gte=opened_after)
    if opened_before is not None:
        incidents = incidents.filter(opened_at__lt=opened_before)
    return incidents.order_by("-opened_at", "-id")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    actor: str
    message: str
    muted: bool
    reason: str
    deliveries: list[tuple[str, str]]  # (channel name, notification status)


def incident_timeline(*, incident: Incident) -> list[TimelineEntry]:
    """Every event, oldest first; a notification round carries its channels and whether each was
    sent, and a muted one says why it was muted."""
    events = (
        IncidentEvent.objects.filter(incident=incident)
        .select_related("actor")
        .prefetch_related(
            Prefetch("notifications", Notification.objects.select_related("channel").order_by("channel__name"))
        )
    )
    entries = []
    for event in events:
        notifications = list(event.notifications.all())
        muted_reason = next((n.muted_reason for n in notifications if n.status == Notification.Status.MUTED), "")
        muted = event.kind == IncidentEvent.Kind.MUTED or bool(muted_reason)
        entries.append(
            TimelineEntry(
                at=event.at,
                kind=event.kind,
                label=event.get_kind_display(),
                actor=event.actor.get_username() if event.actor else "",
                message=event.message,
                muted=muted,
                reason=(event.data or {}).get("reason") or muted_reason if muted else "",
                deliveries=[(n.channel.name, n.status) for n in notifications],
            )
        )
    return entries


@dataclass(frozen=True)
class ResponseFigures:
    """Over the incidents opened in a window: how many, and the mean times to ack and resolve."""

    opened: int = 0
    acknowledged: int = 0
    resolved: int = 0
    mtta: timedelta | None = None
    mttr: timedelta | None = None


@dataclass
class _Sums:
    opened: int = 0
    acked: list[timedelta] = field(default_factory=list)
    resolved: list[timedelta] = field(default_factory=list)

    def figures(self) -> ResponseFigures:
        return ResponseFigures(
            opened=self.opened,
            acknowledged=len(self.acked),
            resolved=len(self.resolved),
            mtta=sum(self.acked, timedelta()) / len(self.acked) if self.acked else None,
            mttr=sum(self.resolved, timedelta()) / len(self.resolved) if self.resolved else None,
        )


def response_figures(
    *,
    since: datetime,
    until: datetime,
    project_id: int | None = None,
    severity: str | None = None,
    by: str | None = None,
) -> dict[str, ResponseFigures]:
    """MTTA (opened → first acknowledged) and MTTR (opened → resolved) of incidents opened in
    [since, until). Keyed "all", or by project name or severity when `by` is "project" or
    "severity". An incident still open counts as opened but not in the means."""
    if by not in (None, "project", "severity"):
        raise ValueError(f"by must be project or severity, not {by!r}")
    rows = Incident.objects.filter(opened_at__gte=since, opened_at__lt=until)
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    if severity:
        rows = rows.filter(severity=severity)
    sums: dict[str, _Sums] = {}
    for opened_at, acked_at, resolved_at, project, sev in rows.values_list(
        "opened_at", "acknowledged_at", "resolved_at", "project__name", "severity"
    ):
        key = "all" if by is None else ((project or "no project") if by == "project" else sev)
        bucket = sums.setdefault(key, _Sums())
        bucket.opened += 1
        if acked_at is not None:
            bucket.acked.append(acked_at - opened_at)
        if resolved_at is not None:
            bucket.resolved.append(resolved_at - opened_at)
    if by is None and not sums:
        return {"all": ResponseFigures()}
    return {key: bucket.figures() for key, bucket in sorted(sums.items())}


def window_scope(window: MaintenanceWindow) -> str:
    """What a window covers, in the words the form offers."""
    if window.target_id:
        return f"target {window.target}"
    if window.tag_id:
        return f"targets tagged {window.tag}"
    if window.project_id:
        return f"everything in project {window.project}"
    return "everything, every project (no scope chosen)"


@dataclass(frozen=True)
class CalendarEntry:
    """One window on one day. A window that opens many times a day (hourly) is one entry that
    counts its openings, not one line each."""

    window: MaintenanceWindow
    day: date
    first: datetime  # the first opening's start, which may be on the day before
    last_end: datetime
    count: int
    scope: str
    tz: zoneinfo.ZoneInfo

    def when(self) -> str:
        """ "03:00–04:30", "24× 10 min, 00:00–23:10", with "…" where it runs over from or into
        another day."""
        first, last_end = self.first.astimezone(self.tz), self.last_end.astimezone(self.tz)
        start = f"{first:%H:%M}" if first.date() == self.day else "…"
        if last_end.date() == self.day:
            end = f"{last_end:%H:%M}"
        else:  # ends at midnight (24:00 of this day) or later
            end = "24:00" if last_end == datetime.combine(self.day + timedelta(days=1), time(), self.tz) else "…"
        span = f"{start}–{end}"
        return span if self.count == 1 else f"{self.count}× {self.window.duration_minutes} min, {span}"


@dataclass(frozen=True)
class CalendarDay:
    day: date
    occurrences: list[Occurrence]
    time_zone: str = "UTC"

    def entries(self) -> list[CalendarEntry]:
        tz = zoneinfo.ZoneInfo(self.time_zone)
        grouped: dict[int, list[Occurrence]] = {}
        for occurrence in self.occurrences:
            grouped.setdefault(occurrence.window.pk, []).append(occurrence)
        entries = []
        for found in grouped.values():
            entries.append(
                CalendarEntry(
                    window=found[0].window,
                    day=self.day,
                    first=found[0].starts_at,
                    last_end=found[-1].ends_at,
                    count=len(found),
                    scope=window_scope(found[0].window),
                    tz=tz,
                )
            )
        return entries


def maintenance_calendar(*, start: date, days: int = 30, time_zone: str = "UTC") -> list[CalendarDay]:
    """Each day from `start` (in `time_zone`) with the windows that are open during it, in order
    of their start; a window crossing midnight shows on both days."""
    tz = zoneinfo.ZoneInfo(time_zone)
    begin = datetime.combine(start, time(), tz)
    end = datetime.combine(start + timedelta(days=days), time(), tz)
    windows = MaintenanceWindow.objects.select_related("project", "target", "tag").filter(starts_at__lt=end)
    occurrences = sorted(
        (o for w in windows for o in window_occurrences(window=w, start=begin, end=end)),
        key=lambda o: (o.starts_at, o.window.name),
    )
    calendar = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        day_start, day_end = datetime.combine(day, time(), tz), datetime.combine(day + timedelta(days=1), time(), tz)
        calendar.append(
            CalendarDay(day, [o for o in occurrences if o.starts_at < day_end and o.ends_at > day_start], time_zone)
        )
    return calendar


@dataclass(frozen=True)
class SourceLink:
    """What an incident is about, as a link a person follows from a page or a notification."""

    kind: str  # target | issue | rule | integration
    name: str
    path: str  # the admin change page, site-relative

    def url(self) -> str:
        return settings.SITE_URL + self.path


# The labels an alert names its source by (alerts.rules.kinds), and that source's admin page.
_LABELLED_SOURCES = (
    ("target", "target_id", "target", "admin:monitoring_target_change"),
    ("issue", "issue_id", "issue", "admin:monitoring_errorissue_change"),
)


def incident_sources(*, incident: Incident, alerts: Iterable[IncidentAlert] | None = None) -> list[SourceLink]:
    """The targets or issues its alerts name, then the rule (or integration) that raised it.
    `alerts` when the caller has them, so a page or a message reads them once."""
    labelled: list[dict[str, str]] = [incident.labels or {}]
    labelled += [a.labels or {} for a in (incident.alerts.all() if alerts is None else alerts)]
    links: list[SourceLink] = []
    seen: set[tuple[str, str]] = set()
    for kind, id_label, name_label, view in _LABELLED_SOURCES:
        for labels in labelled:
            pk = str(labels.get(id_label, ""))
            if not pk.isdigit() or (kind, pk) in seen:
                continue
            seen.add((kind, pk))
            link = _link(kind, labels.get(name_label) or f"#{pk}", view, int(pk))
            if link is not None:
                links.append(link)
    if incident.rule_id is not None and incident.rule is not None:
        link = _link("rule", incident.rule.name, "admin:alerts_alertrule_change", incident.rule_id)
        links += [link] if link else []
    elif incident.integration_id is not None and incident.integration is not None:
        link = _link(
            "integration", str(incident.integration), "admin:alerts_integration_change", incident.integration_id
        )
        links += [link] if link else []
    return links


def _link(kind: str, name: str, view: str, pk: int) -> SourceLink | None:
    try:
        return SourceLink(kind=kind, name=name, path=reverse(view, args=[pk]))
    except NoReverseMatch:  # that admin isn't installed (a trimmed deployment): no link rather than a 500
        return None


def incidents_mute_reasons(
    *, incidents: Iterable[Incident], now: datetime, alerts: Iterable[IncidentAlert] | None = None
) -> dict[int, str]:
    """Why each open incident's notifications are muted right now (silence, maintenance,
    inhibition, a dependency down), by id; incidents that are not muted are left out.

    Muted as the notification round decides it: when every firing alert is (with none firing,
    the incident's own labels). The mutes are read once for the whole list; `alerts`, when the
    caller has read them already, saves reading them again."""
    incidents = list(incidents)
    open_ids = [i.pk for i in incidents if i.status != Incident.Status.RESOLVED]
    if not open_ids:
        return {}
    firing: dict[int, list[dict[str, str]]] = {}
    rows = (
        [(a.incident_id, a.labels) for a in alerts if a.status == IncidentAlert.Status.FIRING]
        if alerts is not None
        else IncidentAlert.objects.filter(incident_id__in=open_ids, status=IncidentAlert.Status.FIRING).values_list(
            "incident_id", "labels"
        )
    )
    for incident_id, labels in rows:
        firing.setdefault(incident_id, []).append(labels or {})
    check = MuteCheck(now=now)
    reasons: dict[int, str] = {}
    for incident in incidents:
        if incident.pk not in open_ids:
            continue
        found = [check.reason(labels) for labels in firing.get(incident.pk) or [incident.labels or {}]]
        if found and all(found):
            reasons[incident.pk] = found[0] or ""
    return reasons


def incidents_with_mutes(
    incidents: Iterable[Incident], *, now: datetime, alerts: Iterable[IncidentAlert] | None = None
) -> list[Incident]:
    """The incidents, each with `mute_reason` set (empty when its notifications go out)."""
    rows = list(incidents)
    reasons = incidents_mute_reasons(incidents=rows, now=now, alerts=alerts)
    for incident in rows:
        incident.mute_reason = reasons.get(incident.pk, "")  # type: ignore[attr-defined]
    return rows
