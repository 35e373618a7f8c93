"""What the admin's Web Vitals panel shows: p75 against budgets, Google's ratings, per route,
and the slowest user actions. Closed days come from day rollups and the rest (today, and the
part of the oldest day after the longest window starts) from hour rollups. A shorter window
starting inside a closed day takes that day's hours after its start on top: the day row
stays whole for the longer windows and the day trend. So 28 days of a hundred series are a
few thousand histograms, not tens of thousands, and the same figures as from hours alone.

A vital's rating is Google's rule read off its distribution: good when at least 75 % of the
samples are good, poor when more than 25 % are poor, needs improvement otherwise. That is
what "p75 is good" means, and reading it from the same shares the panel shows means a row
can never be green while its own columns say most samples need improvement. With many
samples the interpolated p75 falls on the same side of the threshold; with a handful it
may sit within one sample of it, and the shares decide.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.db.models import Q
from django.utils import timezone

from monitoring.models import MetricRollup, MetricSeries, Project
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.selectors.rollups import DAY, days_folded_until, floor_time

# Google's thresholds (web.dev/articles/vitals; ms, CLS has no unit): at most the first is
# "good", above the second is "poor". A page's budget is the first: its p75 should be good.
THRESHOLDS: dict[str, tuple[float, float]] = {
    "LCP": (2500, 4000),
    "INP": (200, 500),
    "CLS": (0.1, 0.25),
    "FCP": (1800, 3000),
    "TTFB": (800, 1800),
}
BUDGETS = {vital: good for vital, (good, _) in THRESHOLDS.items()}
# Older browser scripts still send these, so ingest accepts them; shown only when they have
# data, without a budget, and saying why they are no longer judged.
LEGACY = {"FID": "legacy: replaced by INP", "TTI": "legacy: a lab metric, not a Web Vital"}
VITALS = (*THRESHOLDS, *LEGACY)
WINDOWS = (("24 h", timedelta(days=1)), ("7 d", timedelta(days=7)), ("28 d", timedelta(days=28)))
ROUTE_WINDOW = timedelta(days=7)
TREND_ROUTES = 5
# Google's rule: the 75th percentile of page loads decides.
PASSING_SHARE = 0.75

Rating = Literal["good", "needs-improvement", "poor"]


# (series_id, resolution, start, sum, min, max, encoded histogram): tuples, not dicts, since
# a 28-day panel reads ten thousand of them.
_RollupRow = tuple[int, int, datetime, float, float, float, bytes | memoryview]


@dataclass
class VitalRow:
    name: str
    budget: float | None  # Google's "good" threshold; None for a legacy vital
    p75: dict[str, float | None]  # by window label
    poor_above: float | None = None  # Google's "poor" threshold
    legacy: str = ""  # why a legacy vital has no budget
    ratings: dict[str, Rating | None] = field(default_factory=dict)  # by window label
    good_shares: dict[str, float | None] = field(default_factory=dict)  # by window label
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
class VitalTrend:
    """A budgeted vital per day over the longest window: its p75, the shares of good / needs
    improvement / poor samples, and the p75 of each of the TREND_ROUTES busiest routes."""

    name: str
    days: list[datetime]
    p75: list[float | None]
    shares: dict[str, list[float | None]]  # "good", "needs improvement", "poor" → per day
    routes: dict[str, list[float | None]]  # the busiest routes → p75 per day


@dataclass
class WebVitalsPanel:
    vitals: list[VitalRow]
    routes: list[RouteRow]
    trends: list[VitalTrend] = field(default_factory=list)


def web_vitals_panel(project: Project, *, now: datetime | None = None, routes: int = 20) -> WebVitalsPanel:
    now = now or timezone.now()
    series = {
        s.id: (s.name.removeprefix("vitals."), s.tags.get("route", ""))
        for s in MetricSeries.objects.filter(project=project, name__startswith="vitals.").only("id", "name", "tags")
    }
    start = now - WINDOWS[-1][1]
    cuts = [now - width for _, width in WINDOWS]  # where each window starts, shortest first
    oldest_first = sorted(cuts)  # bisect_right(oldest_first, t): how many windows hold t
    first_day = floor_time(now, DAY) - (len(_trend_days(now)) - 1) * DAY
    closed_days = _folded_days(start, now)
    read_as_days = set(closed_days)
    route_label = next(label for label, width in WINDOWS if width == ROUTE_WINDOW)
    # Each row is decoded once, into its piece: its series, its trend day (-1 for none) and
    # the windows it counts in, WINDOWS[low:high]. A row lies in the windows that start at or
    # before it; an hour of a day also read whole lies only in those starting inside that day.
    pieces: defaultdict[tuple[int, int, int, int], Histogram] = defaultdict(Histogram)
    for series_id, resolution, at, total, low, high, encoded in _rollups(series, start, closed_days, cuts):
        day_start = floor_time(at, DAY)
        windows = bisect_right(oldest_first, at)
        if resolution == MetricRollup.Resolution.HOUR and day_start in read_as_days:
            key = (series_id, -1, len(WINDOWS) - windows, len(WINDOWS) - bisect_right(oldest_first, day_start))
        else:
            key = (series_id, (day_start - first_day) // DAY, len(WINDOWS) - windows, len(WINDOWS))
        pieces[key].merge_encoded(encoded, total=total, minimum=low, maximum=high)
    by_window: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)  # (vital, window label)
    by_day: defaultdict[tuple[str, int], Histogram] = defaultdict(Histogram)  # (vital, trend day)
    by_route: defaultdict[tuple[str, str], Histogram] = defaultdict(Histogram)  # (route, vital)
    for (series_id, day, low_window, high_window), histogram in pieces.items():
        vital, route = series[series_id]
        for label, _ in WINDOWS[low_window:high_window]:
            by_window[vital, label].merge(histogram)
            if label == route_label:
                by_route[route, vital].merge(histogram)
        if day >= 0:
            by_day[vital, day].merge(histogram)

    longest = WINDOWS[-1][0]
    rows = []
    for vital in VITALS:
        if vital in LEGACY and (vital, longest) not in by_window:
            continue  # a legacy vital shows only while something still sends it
        good_at, poor_above = THRESHOLDS.get(vital, (None, None))
        vital_row = VitalRow(
            name=vital,
            budget=good_at,
            poor_above=poor_above,
            legacy=LEGACY.get(vital, ""),
            p75={label: _p75(by_window.get((vital, label))) for label, _ in WINDOWS},
        )
        if good_at is not None and poor_above is not None:
            for label, _ in WINDOWS:
                in_window = by_window.get((vital, label))
                shares = _shares(in_window, good_at, poor_above) if in_window and in_window.count else None
                vital_row.good_shares[label] = shares[0] if shares else None
                vital_row.ratings[label] = _rating(*shares) if shares else None
        whole = by_window.get((vital, longest))
        if whole and whole.count:
            vital_row.count = whole.count
            if good_at is not None and poor_above is not None:
                vital_row.good, vital_row.poor = _shares(whole, good_at, poor_above)
                vital_row.needs_improvement = 1 - vital_row.good - vital_row.poor
        rows.append(vital_row)

    route_rows: dict[str, RouteRow] = {}
    for (route, vital), histogram in by_route.items():
        entry = route_rows.setdefault(route, RouteRow(route=route))
        entry.p75[vital] = _p75(histogram)
        # Page loads, not samples summed over the vitals: each load sends each vital once.
        entry.count = max(entry.count, histogram.count)
    busiest = sorted(route_rows.values(), key=lambda r: (-r.count, r.route))[:routes]
    trended = {r.route for r in busiest[:TREND_ROUTES]}
    by_route_day: defaultdict[tuple[str, str, int], Histogram] = defaultdict(Histogram)  # (vital, route, day)
    for (series_id, day, _, _), histogram in pieces.items():
        vital, route = series[series_id]
        if day >= 0 and route in trended:
            by_route_day[vital, route, day].merge(histogram)
    days = _trend_days(now)
    trends = []
    for vital, (good_at, poor_above) in THRESHOLDS.items():
        daily = [by_day.get((vital, i)) for i in range(len(days))]
        day_shares = [_shares(h, good_at, poor_above) if h and h.count else None for h in daily]
        trends.append(
            VitalTrend(
                name=vital,
                days=days,
                p75=[_p75(h) for h in daily],
                shares={
                    "good": [d[0] if d else None for d in day_shares],
                    "needs improvement": [1 - d[0] - d[1] if d else None for d in day_shares],
                    "poor": [d[1] if d else None for d in day_shares],
                },
                routes={
                    r.route: [_p75(by_route_day.get((vital, r.route, i))) for i in range(len(days))]
                    for r in busiest[:TREND_ROUTES]
                    if vital in r.p75
                },
            )
        )
    return WebVitalsPanel(vitals=rows, routes=busiest, trends=trends)


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
    since = now - window
    for series_id, _, _, total, low, high, encoded in _rollups(series, since, _folded_days(since, now)):
        merged[series[series_id]].merge_encoded(encoded, total=total, minimum=low, maximum=high)
    rows = [
        ActionRow(action=action, count=h.count, p50=h.quantile(0.5), p95=h.quantile(0.95))
        for action, h in merged.items()
    ]
    return sorted(rows, key=lambda r: -(r.p95 or 0))[:limit]


def _trend_days(now: datetime) -> list[datetime]:
    """The UTC days the day trend shows: as many as the longest window has, the last is today."""
    today = floor_time(now, DAY)
    count = WINDOWS[-1][1] // DAY
    return [today - (count - 1 - i) * DAY for i in range(count)]


def _folded_days(since: datetime, now: datetime) -> list[datetime]:
    """The days in [since, now) that day rollups answer: folded, and whole after `since`."""
    folded = days_folded_until()
    if folded is None:
        return []
    day = floor_time(since, DAY)
    days = []
    while day + DAY <= min(folded, now):
        if day >= since:
            days.append(day)
        day += DAY
    return days


def _rollups(
    series: Collection[int], since: datetime, days: list[datetime], cuts: Iterable[datetime] = ()
) -> list[_RollupRow]:
    """Rows from `since` on: day rollups of `days`, hour rollups of the rest, and the hours
    from each cut in `cuts` to the end of its day when that day is one of `days`."""
    if not series:
        return []
    hours = Q(resolution=MetricRollup.Resolution.HOUR, start__gte=since)
    for first, end in _spans(days):
        hours &= ~Q(start__gte=first, start__lt=end)
    rows = hours | Q(resolution=MetricRollup.Resolution.DAY, start__in=days)
    for cut in cuts:
        if floor_time(cut, DAY) in days:
            rows |= Q(resolution=MetricRollup.Resolution.HOUR, start__gte=cut, start__lt=floor_time(cut, DAY) + DAY)
    return list(
        MetricRollup.objects.filter(rows, series_id__in=list(series)).values_list(
            "series_id", "resolution", "start", "sum", "min", "max", "histogram"
        )
    )


def _spans(days: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted days as [start, end) ranges of consecutive days: one condition each."""
    spans: list[tuple[datetime, datetime]] = []
    for day in days:
        if spans and spans[-1][1] == day:
            spans[-1] = (spans[-1][0], day + DAY)
        else:
            spans.append((day, day + DAY))
    return spans


def latest_vitals_project(*, now: datetime | None = None) -> int | None:
    """The id of the project whose Web Vitals arrived last within the panel's longest window:
    the one a person opening the panel most likely wants, rather than an empty demo."""
    now = now or timezone.now()
    return (
        MetricRollup.objects.filter(
            resolution=MetricRollup.Resolution.HOUR,
            start__gte=now - WINDOWS[-1][1],
            series__name__startswith="vitals.",
        )
        .order_by("-start")
        .values_list("series__project_id", flat=True)
        .first()
    )


def _p75(histogram: Histogram | None) -> float | None:
    return histogram.quantile(0.75) if histogram and histogram.count else None


def _shares(histogram: Histogram, good_at: float, poor_above: float) -> tuple[float, float]:
    """(good, poor): the shares at most `good_at` and above `poor_above`."""
    return histogram.share_at_most(good_at), 1 - histogram.share_at_most(poor_above)


def _rating(good: float, poor: float) -> Rating:
    if good >= PASSING_SHARE:
        return "good"
    if poor > 1 - PASSING_SHARE:
        return "poor"
    return "needs-improvement"


def vital_rating(histogram: Histogram, vital: str) -> Rating:
    """Google's rating of a budgeted vital's distribution (see the module docstring)."""
    good_at, poor_above = THRESHOLDS[vital]
    return _rating(*_shares(histogram, good_at, poor_above))
