"""What the admin's Web Vitals panel shows: p75 against budgets, Google's ratings, per route,
and the slowest user actions. Read from hour rollups in two statements per panel."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from django.utils import timezone

from monitoring.models import MetricRollup, MetricSeries, Project
from monitoring.telemetry.histogram import Histogram

# The product's performance budgets (ms; CLS has no unit).
BUDGETS = {"FCP": 1500, "LCP": 2500, "FID": 100, "CLS": 0.1, "TTI": 3800}
# Google's thresholds: at most the first is "good", above the second is "poor".
RATING_THRESHOLDS = {
    "LCP": (2500, 4000),
    "FCP": (1800, 3000),
    "INP": (200, 500),
    "FID": (100, 300),
    "CLS": (0.1, 0.25),
    "TTFB": (800, 1800),
}
VITALS = ("LCP", "FCP", "INP", "CLS", "TTFB", "FID", "TTI")
WINDOWS = (("24 h", timedelta(days=1)), ("7 d", timedelta(days=7)), ("28 d", timedelta(days=28)))
ROUTE_WINDOW = timedelta(days=7)


class _RollupRow(TypedDict):
    series_id: int
    start: datetime
    sum: float
    min: float
    max: float
    histogram: bytes | memoryview


@dataclass
class VitalRow:
    name: str
    budget: float | None
    p75: dict[str, float | None]  # by window label
    count: int = 0
    good: float | None = None  # shares over the longest window
    needs_improvement: float | None = None
    poor: float | None = None

    @property
    def unit(self) -> str:
        return "" if self.name == "CLS" else "ms"

    def within_budget(self, label: str) -> bool | None:
        value = self.p75.get(label)
        return None if value is None or self.budget is None else value <= self.budget


@dataclass
class RouteRow:
    route: str
    p75: dict[str, float | None] = field(default_factory=dict)  # by vital name
    count: int = 0


@dataclass
class ActionRow:
    action: str
    count: int
    p50: float | None
    p95: float | None


@dataclass
class WebVitalsPanel:
    vitals: list[VitalRow]
    routes: list[RouteRow]


def web_vitals_panel(project: Project, *, now: datetime | None = None, routes: int = 20) -> WebVitalsPanel:
    now = now or timezone.now()
    series = {
        s.id: (s.name.removeprefix("vitals."), s.tags.get("route", ""))
        for s in MetricSeries.objects.filter(project=project, name__startswith="vitals.").only("id", "name", "tags")
    }
    by_window: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)  # (vital, window label)
    by_route: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)  # (route, vital)
    for row in _hour_rollups(series, now - WINDOWS[-1][1]):
        vital, route = series[row["series_id"]]
        histogram = Histogram.from_row(row)
        for label, width in WINDOWS:
            if row["start"] >= now - width:
                by_window[vital, label].merge(histogram)
        if row["start"] >= now - ROUTE_WINDOW:
            by_route[route, vital].merge(histogram)

    longest = WINDOWS[-1][0]
    rows = []
    for vital in VITALS:
        if vital not in BUDGETS and (vital, longest) not in by_window:
            continue  # a vital without a budget shows only once it has data
        vital_row = VitalRow(
            name=vital,
            budget=BUDGETS.get(vital),
            p75={label: _p75(by_window.get((vital, label))) for label, _ in WINDOWS},
        )
        whole = by_window.get((vital, longest))
        if whole and whole.count:
            vital_row.count = whole.count
            if vital in RATING_THRESHOLDS:
                good, poor = RATING_THRESHOLDS[vital]
                vital_row.good = whole.share_at_most(good)
                vital_row.poor = 1 - whole.share_at_most(poor)
                vital_row.needs_improvement = 1 - vital_row.good - vital_row.poor
        rows.append(vital_row)

    route_rows: dict[str, RouteRow] = {}
    for (route, vital), histogram in by_route.items():
        entry = route_rows.setdefault(route, RouteRow(route=route))
        entry.p75[vital] = _p75(histogram)
        entry.count += histogram.count
    busiest = sorted(route_rows.values(), key=lambda r: (-r.count, r.route))[:routes]
    return WebVitalsPanel(vitals=rows, routes=busiest)


def slow_actions(
    project: Project, *, window: timedelta = timedelta(days=7), limit: int = 10, now: datetime | None = None
) -> list[ActionRow]:
    """User actions by p95 duration, slowest first."""
    now = now or timezone.now()
    series = {
        s.id: s.tags.get("action", "")
        for s in MetricSeries.objects.filter(project=project, name="actions").only("id", "tags")
    }
    merged: defaultdict[str, Histogram] = defaultdict(Histogram)
    for row in _hour_rollups(series, now - window):
        merged[series[row["series_id"]]].merge(Histogram.from_row(row))
    rows = [
        ActionRow(action=action, count=h.count, p50=h.quantile(0.5), p95=h.quantile(0.95))
        for action, h in merged.items()
    ]
    return sorted(rows, key=lambda r: -(r.p95 or 0))[:limit]


def _hour_rollups(series: Collection[int], since: datetime) -> Iterable[_RollupRow]:
    if not series:
        return []
    return (
        MetricRollup.objects.filter(
            series_id__in=list(series), resolution=MetricRollup.Resolution.HOUR, start__gte=since
        )
        .values("series_id", "start", "sum", "min", "max", "histogram")
        .iterator(chunk_size=5_000)
    )


def _p75(histogram: Histogram | None) -> float | None:
    return histogram.quantile(0.75) if histogram and histogram.count else None
