"""What a status page says, read from monitoring's selectors and this feature's models.

One snapshot per page serves the HTML page, the Statuspage-compatible JSON and the badges.
It is built in a fixed number of queries whatever the number of components (the 90-day bars
come from daily rollups of all the page's targets at once) and cached under a key that holds
the page's `content_version`: a service writing an incident or an override bumps it, so the
next request rebuilds. Probe facts change without such a write; the short lifetime
(SNAPSHOT_SECONDS) bounds how stale they can be.
"""

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from alerts.incidents.models import MaintenanceWindow
from alerts.incidents.services.noise import Occurrence, window_occurrences, window_target_ids
from alerts.status.models import (
    Component,
    ComponentGroup,
    ComponentKind,
    ComponentStatus,
    IncidentStatus,
    PublicIncident,
    PublicIncidentUpdate,
    StatusPage,
)
from monitoring.common.shared_cache import cache_delete, cache_get, cache_set
from monitoring.errors.selectors import error_event_counts
from monitoring.errors.transactions import DURATION
from monitoring.models import Project, Status, TargetRollup, TargetRollupCursor
from monitoring.telemetry.selectors.metrics import MetricRequest, QueryError, query_batch
from monitoring.uptime.selectors import SILENT, TargetState, daily_counts, target_statuses, uptime_by_target
from monitoring.uptime.services.rollups import floor_time

SNAPSHOT_SECONDS = 30
DOMAINS_SECONDS = 300
HISTORY_DAYS = 90
UPCOMING_DAYS = 14
RESOLVED_SHOWN_DAYS = 7
DAY = 86400

# Worst last: a page is as bad as its worst component.
SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.MAINTENANCE: 1,
    ComponentStatus.DEGRADED: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

# A target's status in the public's words. A target whose regions fell silent has lost sight
# of part of the service: a partial outage, not a guess that it is fine.
FROM_TARGET = {
    Status.UP: ComponentStatus.OPERATIONAL,
    Status.DEGRADED: ComponentStatus.DEGRADED,
    Status.DOWN: ComponentStatus.MAJOR_OUTAGE,
    SILENT: ComponentStatus.PARTIAL_OUTAGE,
    Status.UNKNOWN: ComponentStatus.OPERATIONAL,
    Status.PAUSED: ComponentStatus.OPERATIONAL,
}

# Statuspage's page indicator and sentence for the worst component status.
INDICATORS = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.MAINTENANCE: ("none", "Service Under Maintenance"),
    ComponentStatus.DEGRADED: ("minor", "Degraded Performance"),
    ComponentStatus.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}
IMPACT_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}


def component_status(*, state: TargetState | None, override: str, in_maintenance: bool) -> str:
    """A person's override wins; then an open maintenance window; then the target's status."""
    if override:
        return override
    if in_maintenance:
        return ComponentStatus.MAINTENANCE
    if state is None:
        return ComponentStatus.OPERATIONAL
    return FROM_TARGET.get(state.status, ComponentStatus.OPERATIONAL)


@dataclass(frozen=True)
class Signal:
    """A derived component's reading: its value over its window (None when nothing was
    recorded, which is judged operational: there is nothing to judge) and the words for it."""

    value: float | None
    status: str
    words: str


def derived_status(component: Component, value: float | None) -> str:
    """Above the outage threshold a major outage, above the threshold degraded."""
    if value is None or component.threshold is None:
        return ComponentStatus.OPERATIONAL
    if component.outage_threshold is not None and value > component.outage_threshold:
        return ComponentStatus.MAJOR_OUTAGE
    if value > component.threshold:
        return ComponentStatus.DEGRADED
    return ComponentStatus.OPERATIONAL


def _signal_words(component: Component, value: float | None) -> str:
    window = f"last {component.window_minutes} min"
    if component.kind == ComponentKind.ERROR_RATE:
        what, unit = "errors per minute", ""
    elif component.kind == ComponentKind.TRANSACTION_P95:
        what, unit = f"p95 of {component.transaction}", " ms"
    else:
        unit = "" if component.vital == "CLS" else " ms"
        what = f"{component.vital} p75" + (f" on {component.route}" if component.route else "")
    shown = "no data" if value is None else f"{value:.3g}{unit}" if unit == "" else f"{value:.0f}{unit}"
    return f"{what}: {shown} ({window}; threshold {component.threshold:g}{unit})"


def derived_signals(components: list[Component], *, now: datetime) -> dict[int, Signal]:
    """Every derived component's reading, batched: one statement counts the error events of
    all the projects over all the windows asked, and each project's metric questions (p95s
    and p75s, interpolated from the rollups' histograms) go to query_batch together, so a
    page costs a fixed number of queries per project watched, never per component."""
    derived = [c for c in components if c.kind != ComponentKind.TARGET and c.project_id is not None]
    values: dict[int, float | None] = {}
    rates = [c for c in derived if c.kind == ComponentKind.ERROR_RATE]
    counts = error_event_counts(
        project_ids={c.project_id for c in rates if c.project_id is not None},
        windows={timedelta(minutes=c.window_minutes) for c in rates},
        until=now,
    )
    for c in rates:
        values[c.pk] = counts.get((c.project_id or 0, timedelta(minutes=c.window_minutes)), 0) / c.window_minutes
    by_project: dict[int, list[tuple[Component, MetricRequest]]] = defaultdict(list)
    for c in derived:
        window = timedelta(minutes=c.window_minutes)
        if c.kind == ComponentKind.TRANSACTION_P95:
            request = MetricRequest(name=DURATION, tags={"transaction": c.transaction}, agg="p95", window=window)
        elif c.kind == ComponentKind.VITAL_P75:
            tags = {"route": c.route} if c.route else {}
            request = MetricRequest(name=f"vitals.{c.vital}", tags=tags, agg="p75", window=window)
        else:
            continue
        by_project[c.project_id].append((c, request))  # type: ignore[index]
    for project_id, asked in by_project.items():
        # Only the id is read by query_batch: no need to load the project.
        answers = query_batch(Project(pk=project_id), [r for _, r in asked], end=now)
        for (c, _), answer in zip(asked, answers):
            values[c.pk] = None if isinstance(answer, QueryError) or not answer else answer[0].value
    return {
        c.pk: Signal(values.get(c.pk), derived_status(c, values.get(c.pk)), _signal_words(c, values.get(c.pk)))
        for c in derived
    }


# A derived signal keeps no per-day history to judge against its threshold (it would mean
# re-reading every hour's histogram of 90 days), so its bar is drawn empty and says so.
DERIVED_BAR = mark_safe(
    "".join('<span class="nodata" title="no uptime history for derived signals"></span>' for _ in range(HISTORY_DAYS))
)


def worst_status(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: SEVERITY[ComponentStatus(s)], default=ComponentStatus.OPERATIONAL)


# This process's copy of each page's identity and version, kept for a second: a cached
# page's answer is then a lookup in memory, where reading the version took most of its time.
# A write in this process drops the copy at once; other processes see it within the second.
PAGE_LOCAL_SECONDS = 1.0
PAGE_LOCAL_MAX = 1000
_local_pages: dict[str, tuple[float, StatusPage]] = {}


def page_by_slug(slug: str) -> StatusPage | None:
    """The page's pk, slug and content version (what every cache key of it is made of)."""
    now = time.monotonic()
    held = _local_pages.get(slug)
    if held is not None and held[0] > now:
        return held[1]
    page = StatusPage.objects.filter(slug=slug).only("pk", "slug", "content_version").first()
    if page is None:  # unknown slugs are not kept: anyone can make up any number of them
        _local_pages.pop(slug, None)
        return None
    if len(_local_pages) >= PAGE_LOCAL_MAX:
        _local_pages.clear()
    _local_pages[slug] = (now + PAGE_LOCAL_SECONDS, page)
    return page


def forget_pages() -> None:
    """A page changed: this process reads its version afresh on the next request."""
    _local_pages.clear()


DOMAINS_CACHE_KEY = "status:domains"
DOMAINS_LOCAL_SECONDS = 10
# This process's copy of the domain map: the middleware asks on every request (ingest too),
# and a shared-cache read each time would cost more than the rest of it.
_local_domains: tuple[float, dict[str, str]] | None = None


def forget_domains() -> None:
    """A page's domain changed: drop the shared map and this process's copy (other processes
    notice within DOMAINS_LOCAL_SECONDS)."""
    global _local_domains
    _local_domains = None
    cache_delete(DOMAINS_CACHE_KEY)


def page_slug_for_host(host: str) -> str | None:
    """The slug of the page serving `host` as its custom domain."""
    global _local_domains
    if _local_domains is None or _local_domains[0] < time.monotonic():
        domains = cache_get(DOMAINS_CACHE_KEY)
        if domains is None:
            domains = dict(
                StatusPage.objects.exclude(custom_domain=None).values_list("custom_domain", "slug").order_by()
            )
            cache_set(DOMAINS_CACHE_KEY, domains, DOMAINS_SECONDS)
        _local_domains = (time.monotonic() + DOMAINS_LOCAL_SECONDS, domains)
    return _local_domains[1].get(host.lower().rstrip("."))


def page_snapshot(*, page: StatusPage, now: datetime | None = None, bars: bool = False) -> dict:
    """The page as plain data (JSON-ready), from the cache when the page has not changed.

    With `bars`, the 90-day bars (HTML) are included and the snapshot is built afresh (the
    caller caches what it renders from it); the cached copy leaves them out, as the JSON and
    badges never read them and every hit would unpickle a megabyte of them."""
    key = f"status:snapshot:{page.pk}:{page.content_version}"
    snapshot = cache_get(key) if now is None and not bars else None
    if snapshot is None:
        snapshot = build_snapshot(page_id=page.pk, now=now or timezone.now())
        if now is None:
            cache_set(key, _without_bars(snapshot), SNAPSHOT_SECONDS)
    return snapshot if bars else _without_bars(snapshot)


def _without_bars(snapshot: dict) -> dict:
    if not snapshot["components"] or "bar" not in snapshot["components"][0]:
        return snapshot
    rows = {r["id"]: {k: v for k, v in r.items() if k != "bar"} for r in snapshot["components"]}
    return {
        **snapshot,
        "components": list(rows.values()),
        "loose": [rows[r["id"]] for r in snapshot["loose"]],
        "groups": [{**g, "components": [rows[c["id"]] for c in g["components"]]} for g in snapshot["groups"]],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


@dataclass
class _Coverage:
    """Maintenance occurrences per target over the bars' days and the coming ones, and per
    project watched by a derived component (a window over the whole project, or over
    everything, covers it; one naming targets or a tag does not)."""

    by_target: dict[int, list[Occurrence]]
    by_project: dict[int, list[Occurrence]]
    # Each window with its occurrences, the targets and the derived components' projects it covers.
    windows: list[tuple[MaintenanceWindow, list[Occurrence], set[int], set[int]]]


def _maintenance(
    *, states: dict[int, TargetState], derived_projects: set[int], start: datetime, end: datetime
) -> _Coverage:
    target_ids = set(states)
    projects = {s.project_id for s in states.values()}
    windows = (
        MaintenanceWindow.objects.filter(starts_at__lt=end)
        .exclude(until__lt=start)
        .select_related("tag")
        .order_by("starts_at", "pk")
    )
    by_target: dict[int, list[Occurrence]] = defaultdict(list)
    by_project: dict[int, list[Occurrence]] = defaultdict(list)
    covered = []
    for window in windows:
        if window.target_id is not None:
            ids = {window.target_id} & target_ids
        elif window.project_id is not None:
            ids = (
                {t for t, s in states.items() if s.project_id == window.project_id}
                if window.project_id in projects
                else set()
            )
        elif window.tag_id is not None:
            ids = set(window_target_ids(window)) & target_ids
        else:
            ids = set(target_ids)
        if window.project_id is not None:
            watched = {window.project_id} & derived_projects
        else:
            watched = set(derived_projects) if window.target_id is None and window.tag_id is None else set()
        if not ids and not watched:
            continue
        occurrences = window_occurrences(window=window, start=start, end=end)
        if not occurrences:
            continue
        for target_id in ids:
            by_target[target_id].extend(occurrences)
        for project_id in watched:
            by_project[project_id].extend(occurrences)
        covered.append((window, occurrences, ids, watched))
    return _Coverage(by_target, by_project, covered)


def _maintenance_days(occurrences: list[Occurrence], starts: list[datetime]) -> dict[int, list[str]]:
    """Which of the bar's days each window touched (by day index), with the windows' names."""
    if not occurrences:
        return {}
    first = starts[0]
    days: dict[int, set[str]] = defaultdict(set)
    for occurrence in occurrences:
        begin = max(0, int((occurrence.starts_at - first).total_seconds() // DAY))
        stop = min(
            len(starts) - 1, int((occurrence.ends_at - first - timedelta(microseconds=1)).total_seconds() // DAY)
        )
        for i in range(begin, stop + 1):
            days[i].add(occurrence.window.name)
    return {i: sorted(names) for i, names in days.items()}


_DAY_WORDS: dict[tuple[int, int], tuple[str, str]] = {}


def _day_words(count: int, answered: int) -> tuple[str, str]:
    """A day's colour and words; remembered, as whole days repeat the same counts (a full day
    of one-minute probes all answered is (1440, 1440) everywhere)."""
    if not count:
        found = ("nodata", "no data")
    else:
        pct = 100 * answered / count
        found = ("up" if pct >= 99.9 else "degraded" if pct >= 99 else "down", f"{pct:.2f} % uptime")
    if len(_DAY_WORDS) < 100_000:
        _DAY_WORDS[(count, answered)] = found
    return found


def _day_bar(
    starts: list[datetime],
    labels: list[str],
    counts: list[tuple[int, int]],
    occurrences: list[Occurrence],
    *,
    exclude_maintenance: bool,
) -> tuple[list[tuple[str, str]], float | None]:
    """(state, tooltip) per day, and the uptime over the days counted. Runs for every day of
    every component, so it stays plain tuples and arithmetic. Tooltips are HTML-safe already:
    only window names, escaped here, come from people."""
    maintenance = _maintenance_days(occurrences, starts) if occurrences else {}
    days, probes, up = [], 0, 0
    for i, (count, answered) in enumerate(counts):
        state, words = _DAY_WORDS.get((count, answered)) or _day_words(count, answered)
        names = maintenance.get(i)
        if names:
            state = "maintenance"
            words += " · maintenance: " + escape(", ".join(names))
        if count and not (names and exclude_maintenance):
            probes += count
            up += answered
        days.append((state, f"{labels[i]}: {words}"))
    return days, (round(100 * up / probes, 3) if probes else None)


def _bar_html(days: list[tuple[str, str]]) -> SafeString:
    """A component's 90 day boxes, joined here: 90 × hundreds of template nodes were most of
    a large page's render time. States are our own words and tooltips come escaped."""
    return mark_safe("".join([f'<span class="{state}" title="{label}"></span>' for state, label in days]))


BARS_SECONDS = DAY


def _bars(*, page: StatusPage, target_ids: list[int], coverage: _Coverage, now: datetime) -> dict[int, tuple]:
    """Each target's 90-day bar (HTML) and its uptime over those days.

    The days are closed, so a bar changes only when the daily rollup moves on (its cursor is
    the key's version: rollup rows are written only as it advances), when the day turns, or
    when a maintenance window over those days changes (their occurrences are in the key's
    digest). A rebuild for an incident update or an override, or after the snapshot's short
    lifetime, reads them from the cache instead of 18,000 rollup rows."""
    today = floor_time(now, DAY)
    done = (
        TargetRollupCursor.objects.filter(resolution=TargetRollup.Resolution.DAY)
        .values_list("done_until", flat=True)
        .first()
    )
    covered = [
        (t, [(o.starts_at, o.ends_at, o.window.name) for o in coverage.by_target.get(t, []) if o.starts_at < today])
        for t in target_ids
    ]
    digest = hashlib.sha256(repr((page.exclude_maintenance, covered)).encode()).hexdigest()[:32]
    key = f"status:bars:{page.pk}:{today:%Y%m%d}:{done.timestamp() if done else 0}:{digest}"
    bars = cache_get(key)
    if bars is None:
        starts, history = daily_counts(target_ids=target_ids, days=HISTORY_DAYS, now=now)
        labels = [f"{start:%d %b %Y}" for start in starts]
        bars = {}
        for target_id in target_ids:
            days, uptime = _day_bar(
                starts,
                labels,
                history[target_id],
                coverage.by_target.get(target_id, []),
                exclude_maintenance=page.exclude_maintenance,
            )
            bars[target_id] = (str(_bar_html(days)), uptime)
        cache_set(key, bars, BARS_SECONDS)
    return bars


def build_snapshot(*, page_id: int, now: datetime) -> dict:
    page = StatusPage.objects.get(pk=page_id)
    groups = list(ComponentGroup.objects.filter(page=page).order_by("position", "name", "pk"))
    components = list(Component.objects.filter(page=page).order_by("position", "name", "pk"))
    target_ids = sorted({c.target_id for c in components if c.target_id is not None})
    signals = derived_signals(components, now=now)
    states = {s.target_id: s for s in target_statuses(target_ids=target_ids, now=now)}
    coverage = _maintenance(
        states=states,
        derived_projects={c.project_id for c in components if c.target_id is None and c.project_id is not None},
        start=now - timedelta(days=HISTORY_DAYS + 1),
        end=now + timedelta(days=UPCOMING_DAYS),
    )
    bars = _bars(page=page, target_ids=target_ids, coverage=coverage, now=now)

    rows: list[dict[str, Any]] = []
    for component in components:
        signal = signals.get(component.pk)
        if component.target_id is None:
            state, bar, uptime = None, DERIVED_BAR, None
            occurrences = coverage.by_project.get(component.project_id or 0, [])
            if component.status_override:
                status = component.status_override
            elif any(o.starts_at <= now < o.ends_at for o in occurrences):
                status = ComponentStatus.MAINTENANCE
            else:
                status = signal.status if signal else ComponentStatus.OPERATIONAL
        else:
            occurrences = coverage.by_target.get(component.target_id, [])
            in_maintenance = any(o.starts_at <= now < o.ends_at for o in occurrences)
            state = states.get(component.target_id)
            status = component_status(state=state, override=component.status_override, in_maintenance=in_maintenance)
            bar, uptime = bars[component.target_id]
        rows.append(
            {
                "id": str(component.pk),
                "name": component.name,
                "status": status,
                "status_label": ComponentStatus(status).label,
                "override_note": component.override_note if component.status_override else "",
                "created_at": _iso(component.created_at),
                "updated_at": _iso(component.updated_at),
                "position": component.position,
                "description": component.description or None,
                "group_id": str(component.group_id) if component.group_id else None,
                "target_id": component.target_id,
                "project_id": component.project_id if component.target_id is None else None,
                "kind": component.kind,
                # A derived component's reading, e.g. "LCP p75: 3100 ms (last 10 min; threshold 2500 ms)".
                "signal": signal.words if signal else None,
                "signal_value": signal.value if signal else None,
                "bar": mark_safe(bar),
                "uptime_90d": uptime,
                # The certificate the last TLS probe saw (badges count the days left at request time).
                "cert_expires_at": _iso(state.cert_expires_at) if state else None,
            }
        )

    group_rows: list[dict[str, Any]] = []
    for group in groups:
        members = [r for r in rows if r["group_id"] == str(group.pk)]
        status = worst_status([m["status"] for m in members])
        group_rows.append(
            {
                "id": str(group.pk),
                "name": group.name,
                "status": status,
                "status_label": ComponentStatus(status).label,
                "position": group.position,
                "created_at": _iso(group.created_at),
                "components": members,
            }
        )
    loose = [r for r in rows if r["group_id"] is None]

    incidents = _incidents(page=page, now=now)
    worst = worst_status([r["status"] for r in rows])
    indicator, description = INDICATORS[ComponentStatus(worst)]
    for incident in incidents:
        if incident["status"] != IncidentStatus.RESOLVED and IMPACT_RANK[incident["impact"]] > IMPACT_RANK[indicator]:
            indicator, description = incident["impact"], "Service disruption: " + incident["name"]
    return {
        "page": {
            "id": page.slug,
            "name": page.title,
            "description": page.description,
            "url": f"/status/{page.slug}/",
            "custom_domain": page.custom_domain,
            "logo": page.logo.url if page.logo else page.logo_url,
            "time_zone": "Etc/UTC",
            "updated_at": _iso(page.updated_at),
            "exclude_maintenance": page.exclude_maintenance,
        },
        "status": {"indicator": indicator, "description": description},
        "worst": worst,
        "groups": group_rows,
        "loose": loose,
        "components": rows,
        "incidents": incidents,
        "maintenances": _maintenances(page=page, coverage=coverage, rows=rows, now=now),
        "generated_at": _iso(now),
        "generated_label": f"{now.astimezone(UTC):%d %b %Y, %H:%M} UTC",
    }


def _incidents(*, page: StatusPage, now: datetime) -> list[dict]:
    """Unresolved incidents and those resolved in the last week, newest first."""
    recent = now - timedelta(days=RESOLVED_SHOWN_DAYS)
    incidents = (
        PublicIncident.objects.filter(page=page)
        .exclude(resolved_at__lt=recent)
        .prefetch_related(
            Prefetch("updates", queryset=PublicIncidentUpdate.objects.order_by("-created_at", "-pk")),
            Prefetch("components", queryset=Component.objects.only("pk", "name")),
        )
        .order_by("-started_at", "-pk")
    )
    out: list[dict[str, Any]] = []
    for incident in incidents:
        updates = list(incident.updates.all())
        monitoring_at = next((u.created_at for u in reversed(updates) if u.status == IncidentStatus.MONITORING), None)
        out.append(
            {
                "id": str(incident.pk),
                "name": incident.name,
                "status": incident.status,
                "status_label": IncidentStatus(incident.status).label,
                "impact": incident.impact,
                "created_at": _iso(incident.created_at),
                "updated_at": _iso(incident.updated_at),
                "started_at": _iso(incident.started_at),
                "monitoring_at": _iso(monitoring_at),
                "resolved_at": _iso(incident.resolved_at),
                "shortlink": f"/status/{page.slug}/#incident-{incident.pk}",
                "page_id": page.slug,
                "components": [{"id": str(c.pk), "name": c.name} for c in incident.components.all()],
                "incident_updates": [
                    {
                        "id": str(u.pk),
                        "status": u.status,
                        "status_label": IncidentStatus(u.status).label,
                        "body": u.body,
                        "incident_id": str(incident.pk),
                        "created_at": _iso(u.created_at),
                        "updated_at": _iso(u.created_at),
                        "display_at": _iso(u.created_at),
                        "display_label": f"{u.created_at.astimezone(UTC):%d %b %Y, %H:%M} UTC",
                    }
                    for u in updates
                ],
            }
        )
    return out


def _maintenances(*, page: StatusPage, coverage: _Coverage, rows: list[dict], now: datetime) -> list[dict]:
    """Open and coming maintenance (the next UPCOMING_DAYS) on the page's components."""
    by_target, by_project = defaultdict(list), defaultdict(list)
    for row in rows:
        member = {"id": row["id"], "name": row["name"]}
        if row["target_id"] is not None:
            by_target[row["target_id"]].append(member)
        else:
            by_project[row["project_id"]].append(member)
    out: list[dict[str, Any]] = []
    for window, occurrences, target_ids, project_ids in coverage.windows:
        members = [c for t in target_ids for c in by_target[t]] + [c for p in project_ids for c in by_project[p]]
        for occurrence in occurrences:
            if occurrence.ends_at <= now:
                continue
            status = "in_progress" if occurrence.starts_at <= now else "scheduled"
            out.append(
                {
                    "id": f"{window.pk}-{int(occurrence.starts_at.timestamp())}",
                    "name": window.name,
                    "status": status,
                    "impact": "maintenance",
                    "created_at": _iso(window.starts_at),
                    "updated_at": _iso(window.starts_at),
                    "scheduled_for": _iso(occurrence.starts_at),
                    "scheduled_until": _iso(occurrence.ends_at),
                    "when_label": f"{occurrence.starts_at.astimezone(UTC):%d %b %Y, %H:%M}"
                    f" – {occurrence.ends_at.astimezone(UTC):%d %b %Y, %H:%M} UTC",
                    "shortlink": f"/status/{page.slug}/#maintenance",
                    "page_id": page.slug,
                    "components": sorted(members, key=lambda c: int(c["id"])),
                    "incident_updates": [],
                }
            )
    out.sort(key=lambda m: m["scheduled_for"])
    return out


@dataclass(frozen=True)
class BadgeFacts:
    name: str
    status: str
    uptime: dict[str, float | None]
    p50_ms: int | None
    cert_expires_at: datetime | None = None


BADGE_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def component_badge_facts(*, page: StatusPage, component_id: int, window: str | None) -> BadgeFacts | None:
    """A component's status (from the page snapshot) and, when asked, one window's uptime and
    median response time; None when the page has no such component."""
    snapshot = page_snapshot(page=page)
    row = next((r for r in snapshot["components"] if r["id"] == str(component_id)), None)
    if row is None:
        return None
    if window is None:
        expires = row.get("cert_expires_at")
        return BadgeFacts(row["name"], row["status"], {}, None, datetime.fromisoformat(expires) if expires else None)
    if row["target_id"] is None:
        # A derived signal has no probes: no uptime or response time to show.
        return BadgeFacts(row["name"], row["status"], {window: None}, None)
    key = f"status:badge:{row['target_id']}:{window}"
    facts = cache_get(key)
    if facts is None:
        figures = uptime_by_target(target_ids=[row["target_id"]], window=BADGE_WINDOWS[window], now=timezone.now())
        found = figures.get(row["target_id"])
        facts = (found.uptime_pct, found.p50_ms) if found else (None, None)
        cache_set(key, facts, SNAPSHOT_SECONDS)
    return BadgeFacts(row["name"], row["status"], {window: facts[0]}, facts[1])
