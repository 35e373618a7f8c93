"""What a digest and an SLA report say, read through the other features' selectors.

Periods are whole UTC days and weeks (Monday to Monday) and whole UTC months. Uptime is read
from hour rollups, which are kept for UPTIME_ROLLUP_RETENTION_DAYS (minute rollups only for a
week), so a month ago reads the same as yesterday, and the digest's uptime, the SLO budget
and the SLA report all count the same probes.

An SLA report leaves maintenance out by the hour: an hour that a maintenance window touches
counts in "uptime" but not in "uptime without maintenance". Downtime minutes are the failed
share of an hour's probes times its 60 minutes, so they always agree with the uptime figure.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from alerts.incidents.selectors import ResponseFigures, incidents_list, response_figures
from alerts.incidents.services.noise import Occurrence, window_occurrences, window_target_ids
from alerts.models import AlertRule, Cadence, MaintenanceWindow
from alerts.rules.kinds.slo_burn_rate import PERIOD as SLO_PERIOD
from alerts.rules.kinds.slo_burn_rate import burn_rate
from alerts.rules.kinds.targets import watched_targets
from alerts.status.models import Component, PublicIncident, StatusPage
from backups.selectors import plan_facts
from monitoring.errors.selectors import IssueEventCount, error_issues_new, error_issues_regressed
from monitoring.models import Project
from monitoring.telemetry.selectors.metrics import QueryError, query, query_share_at_most
from monitoring.telemetry.selectors.web_vitals import web_vitals_panel
from monitoring.uptime.selectors import HourCounts, hourly_counts, target_statuses

# The team's KPI for a target no availability SLO watches.
DEFAULT_UPTIME_OBJECTIVE = 99.9
HOUR = timedelta(hours=1)
# Which of the Web Vitals panel's windows a digest reports.
VITALS_WINDOW = {Cadence.DAILY: "24 h", Cadence.WEEKLY: "7 d"}


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class Period:
    cadence: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        if self.cadence == Cadence.DAILY:
            return f"{self.start:%a %d %b %Y}"
        return f"{self.start:%d %b} – {self.end - timedelta(days=1):%d %b %Y}"


def period_closed(*, cadence: str, now: datetime) -> Period:
    """The newest whole UTC day or week (from Monday) that ended at or before `now`."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if cadence == Cadence.DAILY:
        return Period(cadence, midnight - timedelta(days=1), midnight)
    monday = midnight - timedelta(days=midnight.weekday())
    return Period(cadence, monday - timedelta(days=7), monday)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of "YYYY-MM", in UTC; ValueError if malformed."""
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError("month must look like 2026-11") from None
    # The report links the month before and after: both must be dates Python can write.
    if not (1 < first.year < 9999):
        raise ValueError("month must be between 0002-01 and 9998-12")
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


# --- the digest ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetUptime:
    name: str
    url: str
    probes: int
    uptime_pct: float | None
    objective_pct: float

    @property
    def met(self) -> bool | None:
        return None if self.uptime_pct is None else self.uptime_pct >= self.objective_pct

    @property
    def objective_label(self) -> str:
        return f"{self.objective_pct:g} %"


@dataclass(frozen=True)
class SloBudget:
    name: str
    url: str
    objective_pct: float
    # Share of the 30-day error budget not yet spent; negative when overspent, None without data.
    left_pct: float | None
    note: str = ""

    @property
    def objective_label(self) -> str:
        return f"{self.objective_pct:g} %"


@dataclass(frozen=True)
class IncidentLine:
    title: str
    url: str
    severity: str
    status: str
    opened_at: datetime
    time_to_ack: timedelta | None
    time_to_resolve: timedelta | None


@dataclass(frozen=True)
class IssueLine:
    title: str
    url: str
    level: str
    events: int


@dataclass(frozen=True)
class VitalLine:
    name: str
    p75: float | None
    budget: float
    unit: str

    @property
    def within(self) -> bool | None:
        return None if self.p75 is None else self.p75 <= self.budget

    @property
    def p75_label(self) -> str:
        return "—" if self.p75 is None else self._figure(self.p75)

    @property
    def budget_label(self) -> str:
        return self._figure(self.budget)

    def _figure(self, value: float) -> str:
        # CLS has no unit and lives below 1; the others are whole milliseconds.
        return f"{value:.2f}" if not self.unit else f"{value:.0f} {self.unit}"


@dataclass(frozen=True)
class BackupLine:
    plan: str
    last_success_at: datetime | None
    verified_at: datetime | None
    overdue: bool
    failing: bool
    problem: str


@dataclass
class Digest:
    project: Project
    period: Period
    project_url: str
    targets: list[TargetUptime] = field(default_factory=list)
    slos: list[SloBudget] = field(default_factory=list)
    incidents: list[IncidentLine] = field(default_factory=list)
    response: ResponseFigures = field(default_factory=ResponseFigures)
    new_issues: list[IssueLine] = field(default_factory=list)
    regressed_issues: list[IssueLine] = field(default_factory=list)
    vitals_window: str = ""
    vitals: list[VitalLine] = field(default_factory=list)
    backups: list[BackupLine] = field(default_factory=list)


def digest_build(*, project: Project, period: Period, now: datetime) -> Digest:
    """Everything one project's digest says about `period`; backups as of `now` (they are portal-wide)."""
    start, end = period.start, period.end
    states = target_statuses(project_id=project.pk, now=now)
    slo_rules = list(
        AlertRule.objects.filter(kind="slo_burn_rate", enabled=True)
        .filter(Q(project=project) | Q(project__isnull=True))
        .order_by("name", "pk")
    )
    uptime_rules = [(rule, {s.target_id for s in watched_targets(rule)}) for rule in slo_rules if _uptime_sli(rule)]
    objectives: dict[int, float] = {}
    for rule, ids in uptime_rules:
        for target_id in ids:
            objectives[target_id] = max(objectives.get(target_id, 0.0), float(rule.params["objective"]))
    counts = _summed(hourly_counts(target_ids=[s.target_id for s in states], since=start, until=end))
    targets = [
        TargetUptime(
            name=s.name,
            url=absolute(reverse("admin:monitoring_target_change", args=[s.target_id])),
            probes=counts.get(s.target_id, (0, 0))[0],
            uptime_pct=_pct(*counts.get(s.target_id, (0, 0))),
            objective_pct=objectives.get(s.target_id, DEFAULT_UPTIME_OBJECTIVE),
        )
        for s in sorted(states, key=lambda s: s.name.lower())
    ]
    uptime_ids = {rule.pk: ids for rule, ids in uptime_rules}
    slos = [_slo_budget(rule, project=project, target_ids=uptime_ids.get(rule.pk), end=end) for rule in slo_rules]
    incidents = [
        IncidentLine(
            title=i.title,
            url=absolute(reverse("admin:alerts_incident_change", args=[i.pk])),
            severity=i.get_severity_display(),
            status=i.get_status_display(),
            opened_at=i.opened_at,
            time_to_ack=i.acknowledged_at - i.opened_at if i.acknowledged_at else None,
            time_to_resolve=i.resolved_at - i.opened_at if i.resolved_at else None,
        )
        for i in incidents_list(project_id=project.pk, opened_after=start, opened_before=end)
    ]
    label = VITALS_WINDOW[Cadence(period.cadence)]
    vitals = [
        VitalLine(name=v.name, p75=v.p75.get(label), budget=v.budget, unit=v.unit)
        for v in web_vitals_panel(project, now=end, routes=0).vitals
        if v.budget is not None and v.p75.get(label) is not None
    ]
    return Digest(
        project=project,
        period=period,
        project_url=absolute(reverse("admin:monitoring_project_change", args=[project.pk])),
        targets=targets,
        slos=slos,
        incidents=incidents,
        response=response_figures(since=start, until=end, project_id=project.pk)["all"],
        new_issues=_issues(error_issues_new(project_id=project.pk, since=start, until=end)),
        regressed_issues=_issues(error_issues_regressed(project_id=project.pk, since=start, until=end)),
        vitals_window=label,
        vitals=vitals,
        backups=backup_lines(now=now),
    )


def backup_lines(*, now: datetime) -> list[BackupLine]:
    lines = []
    for f in plan_facts(now):
        if not f.enabled:
            continue
        failing = bool(f.last_failure_at and (f.last_success_at is None or f.last_failure_at > f.last_success_at))
        verification_failed = bool(
            f.last_verification_failed_at
            and (f.newest_success_verified_at is None or f.last_verification_failed_at > f.newest_success_verified_at)
        )
        problem = f.last_failure_error if failing else f.last_verification_error if verification_failed else ""
        lines.append(
            BackupLine(
                plan=f.plan_name,
                last_success_at=f.last_success_at,
                verified_at=f.newest_success_verified_at,
                overdue=f.overdue,
                failing=failing or verification_failed,
                problem=problem[:300],
            )
        )
    return lines


def _uptime_sli(rule: AlertRule) -> bool:
    return rule.params.get("sli") == "availability_uptime"


def _slo_budget(rule: AlertRule, *, project: Project, target_ids: set[int] | None, end: datetime) -> SloBudget:
    """The budget left over the SLO's 30 days up to `end`: spending it evenly over 30 days is a
    burn rate of 1×, so the share spent is the burn rate over the whole period."""
    params = rule.params
    objective = float(params["objective"])
    url = absolute(reverse("admin:alerts_alertrule_change", args=[rule.pk]))
    good, total, note = 0.0, 0.0, ""
    if target_ids is not None:
        sums = _summed(hourly_counts(target_ids=sorted(target_ids), since=end - SLO_PERIOD, until=end))
        total, good = float(sum(p for p, _ in sums.values())), float(sum(u for _, u in sums.values()))
    else:
        owner = rule.project or project
        try:
            if params["sli"] == "latency":
                (bucket,) = query_share_at_most(
                    owner, params["metric"], params["threshold_ms"], params["tags"], SLO_PERIOD, end=end
                )
                good, total = bucket.at_most, float(bucket.count)
            else:
                good_sum, total_sum = (
                    query(owner, params[name], params["tags"], "sum", SLO_PERIOD, end=end).buckets[0].value or 0.0
                    for name in ("good_metric", "total_metric")
                )
                good, total = good_sum, total_sum
        except QueryError as exc:
            note = str(exc)
    rate = burn_rate(good=good, total=total, objective_pct=objective)
    left = None if rate is None else round(100 * (1 - rate), 1)
    return SloBudget(name=rule.name, url=url, objective_pct=objective, left_pct=left, note=note)


def _issues(rows: list[IssueEventCount]) -> list[IssueLine]:
    return [
        IssueLine(
            title=r.title,
            url=absolute(reverse("admin:monitoring_errorissue_change", args=[r.issue_id])),
            level=r.level,
            events=r.events,
        )
        for r in sorted(rows, key=lambda r: (-r.events, r.issue_id))
    ]


def _summed(rows: Iterable[HourCounts]) -> dict[int, tuple[int, int]]:
    sums: dict[int, tuple[int, int]] = {}
    for row in rows:
        probes, up = sums.get(row.target_id, (0, 0))
        sums[row.target_id] = (probes + row.probes, up + row.up)
    return sums


def _pct(probes: int, up: int) -> float | None:
    return round(100 * up / probes, 3) if probes else None


# --- the monthly SLA report ---------------------------------------------------------------
@dataclass
class SlaLine:
    name: str
    probes: int = 0
    up: int = 0
    probes_outside: int = 0  # outside maintenance
    up_outside: int = 0
    downtime_minutes: float = 0.0
    downtime_minutes_outside: float = 0.0
    maintenance_minutes: float = 0.0

    @property
    def uptime_pct(self) -> float | None:
        return _pct(self.probes, self.up)

    @property
    def uptime_outside_pct(self) -> float | None:
        return _pct(self.probes_outside, self.up_outside)


@dataclass(frozen=True)
class SlaIncident:
    name: str
    url: str
    kind: str  # the impact of a public incident, the severity of an internal one
    started_at: datetime
    resolved_at: datetime | None
    minutes: float  # within the month; an open incident counts up to the month's end or now


@dataclass
class SlaReport:
    title: str
    month: str
    start: datetime
    end: datetime
    lines: list[SlaLine]
    total: SlaLine
    incidents: list[SlaIncident]
    response: ResponseFigures | None = None


def sla_report_for_page(*, page: StatusPage, month: str, now: datetime) -> SlaReport:
    start, end = month_bounds(month)
    # Uptime is the targets' (and heartbeats'): a derived component has a threshold, not probes.
    components = list(Component.objects.filter(page=page, target__isnull=False).order_by("position", "name", "pk"))
    lines, total = _sla_lines([(c.target_id, c.name) for c in components if c.target_id], start=start, end=end)
    incidents = [
        SlaIncident(
            name=i.name,
            url=absolute(reverse("admin:alerts_publicincident_change", args=[i.pk])),
            kind=i.get_impact_display(),
            started_at=i.started_at,
            resolved_at=i.resolved_at,
            minutes=_minutes_within(i.started_at, i.resolved_at, start=start, end=end, now=now),
        )
        for i in PublicIncident.objects.filter(page=page, started_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
        .order_by("started_at", "pk")
    ]
    return SlaReport(page.title, month, start, end, lines, total, incidents)


def sla_report_for_project(*, project: Project, month: str, now: datetime) -> SlaReport:
    start, end = month_bounds(month)
    states = sorted(target_statuses(project_id=project.pk, now=now), key=lambda s: (s.name.lower(), s.target_id))
    lines, total = _sla_lines([(s.target_id, s.name) for s in states], start=start, end=end)
    incidents = [
        SlaIncident(
            name=i.title,
            url=absolute(reverse("admin:alerts_incident_change", args=[i.pk])),
            kind=i.get_severity_display(),
            started_at=i.opened_at,
            resolved_at=i.resolved_at,
            minutes=_minutes_within(i.opened_at, i.resolved_at, start=start, end=end, now=now),
        )
        for i in reversed(incidents_list(project_id=project.pk, opened_after=start, opened_before=end))
    ]
    response = response_figures(since=start, until=end, project_id=project.pk)["all"]
    return SlaReport(project.name, month, start, end, lines, total, incidents, response)


def _sla_lines(targets: list[tuple[int, str]], *, start: datetime, end: datetime) -> tuple[list[SlaLine], SlaLine]:
    ids = sorted({target_id for target_id, _ in targets})
    maintenance = _maintenance(ids, start=start, end=end)
    by_target: dict[int, SlaLine] = {}
    for target_id in ids:
        line = by_target[target_id] = SlaLine(name="")
        line.maintenance_minutes = _covered_minutes(maintenance.get(target_id, []), start=start, end=end)
    for row in hourly_counts(target_ids=ids, since=start, until=end):
        line = by_target[row.target_id]
        down = 60 * (row.probes - row.up) / row.probes if row.probes else 0.0
        line.probes += row.probes
        line.up += row.up
        line.downtime_minutes += down
        hour_end = row.start + HOUR
        if not any(o.starts_at < hour_end and o.ends_at > row.start for o in maintenance.get(row.target_id, [])):
            line.probes_outside += row.probes
            line.up_outside += row.up
            line.downtime_minutes_outside += down
    lines = []
    for target_id, name in targets:
        figures = by_target[target_id]
        lines.append(SlaLine(**{**figures.__dict__, "name": name}))
    total = SlaLine(name="All")
    for figures in by_target.values():
        for attr in ("probes", "up", "probes_outside", "up_outside", "downtime_minutes", "downtime_minutes_outside"):
            setattr(total, attr, getattr(total, attr) + getattr(figures, attr))
    total.maintenance_minutes = sum(f.maintenance_minutes for f in by_target.values())
    return lines, total


def _maintenance(target_ids: list[int], *, start: datetime, end: datetime) -> dict[int, list[Occurrence]]:
    """Maintenance occurrences in [start, end) per target, whichever way the window names them."""
    wanted = set(target_ids)
    by_target: dict[int, list[Occurrence]] = defaultdict(list)
    windows = MaintenanceWindow.objects.filter(starts_at__lt=end).exclude(until__lt=start).select_related("tag")
    for window in windows.order_by("starts_at", "pk"):
        occurrences = window_occurrences(window=window, start=start, end=end)
        if not occurrences:
            continue
        covered = {window.target_id} if window.target_id is not None else set(window_target_ids(window))
        for target_id in covered & wanted:
            by_target[target_id].extend(occurrences)
    return by_target


def _covered_minutes(occurrences: list[Occurrence], *, start: datetime, end: datetime) -> float:
    """Minutes of [start, end) inside any of the occurrences, overlaps counted once."""
    spans = sorted((max(o.starts_at, start), min(o.ends_at, end)) for o in occurrences)
    minutes, reached = 0.0, start
    for begin, finish in spans:
        begin = max(begin, reached)
        if finish > begin:
            minutes += (finish - begin).total_seconds() / 60
            reached = finish
    return minutes


def _minutes_within(
    begin: datetime, finish: datetime | None, *, start: datetime, end: datetime, now: datetime
) -> float:
    stop = min(finish or min(now, end), end)
    return max(0.0, (stop - max(begin, start)).total_seconds() / 60)


def sla_months(*, now: datetime, count: int = 3) -> list[str]:
    """The current month and the ones before it, newest first, as "YYYY-MM"."""
    first = date(now.year, now.month, 1)
    months = []
    for _ in range(count):
        months.append(f"{first:%Y-%m}")
        first = (first - timedelta(days=1)).replace(day=1)
    return months
