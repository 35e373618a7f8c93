"""Reading metrics: `query()` is what dashboards, the explorer and alert rules call.

Answers come from rollups only (hour rollups when the step is whole hours, minute rollups
otherwise); percentiles merge the rollups' histograms, so a p95 over months costs a few
hundred small rows per series, never a sort of raw points.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from monitoring.models import MetricRollup, MetricSeries, MetricTagValue, Project
from monitoring.telemetry.histogram import Histogram

PERCENTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}
AGGREGATIONS = ("count", "sum", "avg", "min", "max", "rate", *PERCENTILES)
MAX_BUCKETS = 10_000


class QueryError(ValueError):
    """The query cannot be answered as asked; the message starts with the field's name."""


@dataclass(frozen=True)
class Bucket:
    start: datetime
    value: float | None  # None where nothing was recorded (count, sum and rate say 0)


@dataclass(frozen=True)
class QueryResult:
    resolution: int  # seconds: 60 or 3600
    series: int  # how many series matched the name and tags
    buckets: list[Bucket]


@dataclass
class _Accumulator:
    count: int = 0
    sum: float = 0.0
    min: float | None = None
    max: float | None = None
    histogram: Histogram | None = None


def query(
    project: Project,
    name: str,
    tags: dict[str, str] | None = None,
    agg: str = "avg",
    window: timedelta = timedelta(hours=1),
    step: timedelta | None = None,
    *,
    end: datetime | None = None,
) -> QueryResult:
    """`agg` of the series `name` (those carrying all of `tags`) over the `window` ending now
    (or at `end`), in buckets of `step` (one bucket over the whole window by default).
    `rate` is per second: of the summed values for counters, of the points otherwise."""
    step = step or window
    resolution = _resolution(agg, window, step)
    end = _ceil(end or timezone.now(), resolution)
    begin = end - window
    series = [
        s
        for s in MetricSeries.objects.filter(project=project, name=name).only("id", "tags", "kind")
        if all(s.tags.get(key) == value for key, value in (tags or {}).items())
    ]
    buckets = [_Accumulator() for _ in range(int(window / step))]
    wants_histogram = agg in PERCENTILES
    columns = ["start", "count", "sum", "min", "max", *(["histogram"] if wants_histogram else [])]
    rows = MetricRollup.objects.filter(
        series_id__in=[s.id for s in series], resolution=resolution, start__gte=begin, start__lt=end
    ).values(*columns)
    for row in rows.iterator(chunk_size=5_000):
        bucket = buckets[int((row["start"] - begin) / step)]
        bucket.count += row["count"]
        bucket.sum += row["sum"]
        bucket.min = row["min"] if bucket.min is None else min(bucket.min, row["min"])
        bucket.max = row["max"] if bucket.max is None else max(bucket.max, row["max"])
        if wants_histogram:
            bucket.histogram = bucket.histogram or Histogram()
            bucket.histogram.merge(Histogram.from_row(row))
    counters = bool(series) and all(s.kind == MetricSeries.Kind.COUNTER for s in series)
    return QueryResult(
        resolution=resolution,
        series=len(series),
        buckets=[
            Bucket(start=begin + index * step, value=_value(agg, bucket, step, counters))
            for index, bucket in enumerate(buckets)
        ],
    )


def _resolution(agg: str, window: timedelta, step: timedelta) -> int:
    if agg not in AGGREGATIONS:
        raise QueryError(f"agg: {agg!r} is not one of {', '.join(AGGREGATIONS)}")
    if window <= timedelta(0):
        raise QueryError("window: must be positive")
    if step <= timedelta(0) or step % timedelta(minutes=1):
        raise QueryError("step: must be a whole number of minutes")
    if window % step:
        raise QueryError("window: must be a whole number of steps")
    if window / step > MAX_BUCKETS:
        raise QueryError(f"step: {int(window / step)} buckets; at most {MAX_BUCKETS}, so take a longer step")
    if step % timedelta(hours=1) == timedelta(0):
        return MetricRollup.Resolution.HOUR
    if window > timedelta(days=settings.TELEMETRY_MINUTE_RETENTION_DAYS):
        raise QueryError(
            f"step: minute rollups are kept {settings.TELEMETRY_MINUTE_RETENTION_DAYS} days; "
            "over a longer window use whole hours"
        )
    return MetricRollup.Resolution.MINUTE


def _ceil(moment: datetime, resolution: int) -> datetime:
    """The end of the bucket `moment` falls in, so the current minute or hour is included."""
    floor = moment.replace(second=0, microsecond=0)
    if resolution == MetricRollup.Resolution.HOUR:
        floor = floor.replace(minute=0)
    return moment if floor == moment else floor + timedelta(seconds=resolution)


def _value(agg: str, bucket: _Accumulator, step: timedelta, counters: bool) -> float | None:
    if agg == "count":
        return bucket.count
    if agg == "sum":
        return bucket.sum
    if agg == "rate":
        return (bucket.sum if counters else bucket.count) / step.total_seconds()
    if not bucket.count:
        return None
    if agg == "avg":
        return bucket.sum / bucket.count
    if agg in ("min", "max"):
        return getattr(bucket, agg)
    # Percentile queries merge every row's histogram, and count is non-zero only after a row.
    assert bucket.histogram is not None
    return bucket.histogram.quantile(PERCENTILES[agg])


@dataclass(frozen=True)
class GroupValue:
    labels: dict[str, str]  # the series' tags, {group_by: value}, or {} for all series together
    series: int
    value: float | None


@dataclass(frozen=True)
class ShareBucket:
    start: datetime
    count: int
    at_most: float  # how many of the `count` values were <= the threshold (to histogram precision)


def query_share_at_most(
    project: Project,
    name: str,
    threshold: float,
    tags: dict[str, str] | None = None,
    window: timedelta = timedelta(hours=1),
    step: timedelta | None = None,
    *,
    end: datetime | None = None,
) -> list[ShareBucket]:
    """Per step, how many values of the series were recorded and how many were at most
    `threshold`: the good/total pair of a latency objective, merged from rollup histograms."""
    step = step or window
    resolution = _resolution("p50", window, step)
    end = _ceil(end or timezone.now(), resolution)
    begin = end - window
    series_ids = [
        s.id
        for s in MetricSeries.objects.filter(project=project, name=name).only("id", "tags")
        if all(s.tags.get(key) == value for key, value in (tags or {}).items())
    ]
    counts = [0] * int(window / step)
    good = [0.0] * int(window / step)
    rows = MetricRollup.objects.filter(
        series_id__in=series_ids, resolution=resolution, start__gte=begin, start__lt=end
    ).values("start", "count", "sum", "min", "max", "histogram")
    for row in rows.iterator(chunk_size=5_000):
        index = int((row["start"] - begin) / step)
        counts[index] += row["count"]
        good[index] += Histogram.from_row(row).share_at_most(threshold) * row["count"]
    return [ShareBucket(start=begin + i * step, count=counts[i], at_most=good[i]) for i in range(len(counts))]


@dataclass(frozen=True)
class MetricRequest:
    """One question for query_batch(): `agg` over `window`, per series (grouped, no
    group_by), per value of the tag `group_by`, or over all matching series (not grouped)."""

    name: str
    tags: dict[str, str]
    agg: str
    window: timedelta
    group_by: str | None = None
    grouped: bool = False


_BATCH_CHUNK = 2_000  # series ids per rollup statement, well inside SQLite's variable limit


def query_batch(
    project: Project,
    requests: list[MetricRequest],
    *,
    end: datetime | None = None,
) -> list[list[GroupValue] | QueryError]:
    """Many questions about one project's metrics at one moment, answered from the same
    rollups as query() in a handful of statements: the series once,
    and each resolution's rollups once over the longest window asked (what an evaluator
    tick over many rules needs). An ungrouped request answers one GroupValue with empty
    labels, or nothing when no series matched; a bad request answers its QueryError."""
    end = end or timezone.now()
    plans: list[tuple[int, datetime] | QueryError] = []
    for request in requests:
        try:
            resolution = _resolution(request.agg, request.window, request.window)
        except QueryError as exc:
            plans.append(exc)
            continue
        plans.append((resolution, _ceil(end, resolution)))
    names = {r.name for r, plan in zip(requests, plans) if not isinstance(plan, QueryError)}
    by_name: dict[str, list[MetricSeries]] = {}
    # (name, tag, value) → series: a request's filter looks up its rarest tag, not every series.
    by_tag: dict[tuple[str, str, str], list[MetricSeries]] = {}
    for s in MetricSeries.objects.filter(project=project, name__in=names).only("id", "name", "tags", "kind"):
        by_name.setdefault(s.name, []).append(s)
        for key, value in s.tags.items():
            by_tag.setdefault((s.name, key, value), []).append(s)

    def matching(request: MetricRequest) -> list[MetricSeries]:
        candidates = min(
            (by_tag.get((request.name, k, v), []) for k, v in request.tags.items()),
            key=len,
            default=by_name.get(request.name, []),
        )
        return [
            s
            for s in candidates
            if all(s.tags.get(k) == v for k, v in request.tags.items())
            and (request.group_by is None or request.group_by in s.tags)
        ]

    matched = [matching(r) if not isinstance(plan, QueryError) else [] for r, plan in zip(requests, plans)]
    # Per (resolution, end): the series wanted, the longest window, and whether histograms are.
    spans: dict[tuple[int, datetime], list] = {}
    for request, plan, series in zip(requests, plans, matched):
        if isinstance(plan, QueryError) or not series:
            continue
        span = spans.setdefault(plan, [set(), timedelta(0), False])
        span[0].update(s.id for s in series)
        span[1] = max(span[1], request.window)
        span[2] = span[2] or request.agg in PERCENTILES
    rows: dict[tuple[int, datetime], dict[int, list]] = {}
    for (resolution, span_end), (ids, window, histograms) in spans.items():
        per_series = rows.setdefault((resolution, span_end), {})
        columns = ["series_id", "start", "count", "sum", "min", "max", *(["histogram"] if histograms else [])]
        ordered = sorted(ids)
        for index in range(0, len(ordered), _BATCH_CHUNK):
            found = MetricRollup.objects.filter(
                series_id__in=ordered[index : index + _BATCH_CHUNK],
                resolution=resolution,
                start__gte=span_end - window,
                start__lt=span_end,
            ).values_list(*columns)
            for row in found.iterator(chunk_size=5_000):
                per_series.setdefault(row[0], []).append(row)
    answers: list[list[GroupValue] | QueryError] = []
    # Rules often ask the same question with different thresholds: answer each once.
    answered: dict[tuple, list[GroupValue]] = {}
    for request, plan, series in zip(requests, plans, matched):
        if isinstance(plan, QueryError):
            answers.append(plan)
            continue
        key = (
            request.name,
            tuple(sorted(request.tags.items())),
            request.agg,
            request.window,
            request.group_by,
            request.grouped,
        )
        if key not in answered:
            answered[key] = _batch_answer(request, series, rows.get(plan, {}), plan[1] - request.window)
        answers.append(answered[key])
    return answers


def _batch_answer(
    request: MetricRequest, series: list[MetricSeries], rows: dict[int, list], begin: datetime
) -> list[GroupValue]:
    if not series:
        return []
    keys: dict[int, tuple[tuple[str, str], ...]]
    if not request.grouped:
        keys = {s.id: () for s in series}
    elif request.group_by is None:
        keys = {s.id: tuple(sorted(s.tags.items())) for s in series}
    else:
        keys = {s.id: ((request.group_by, s.tags[request.group_by]),) for s in series}
    members: dict[tuple, list[MetricSeries]] = {}
    for s in series:
        members.setdefault(keys[s.id], []).append(s)
    accumulators = {key: _Accumulator() for key in members}
    wants_histogram = request.agg in PERCENTILES
    for s in series:
        bucket = accumulators[keys[s.id]]
        for row in rows.get(s.id, ()):
            if row[1] < begin:
                continue
            bucket.count += row[2]
            bucket.sum += row[3]
            bucket.min = row[4] if bucket.min is None else min(bucket.min, row[4])
            bucket.max = row[5] if bucket.max is None else max(bucket.max, row[5])
            if wants_histogram:
                bucket.histogram = bucket.histogram or Histogram()
                bucket.histogram.merge(Histogram.decode(row[6], total=row[3], minimum=row[4], maximum=row[5]))
    return [
        GroupValue(
            labels=dict(key),
            series=len(group),
            value=_value(
                request.agg, accumulators[key], request.window, all(s.kind == MetricSeries.Kind.COUNTER for s in group)
            ),
        )
        for key, group in sorted(members.items())
    ]


def metric_names(project: Project, *, limit: int = 500) -> list[str]:
    """The metric names a project has series for, to suggest in the explorer and rule forms."""
    return list(
        MetricSeries.objects.filter(project=project).order_by("name").values_list("name", flat=True).distinct()[:limit]
    )


def metric_tag_pairs(project: Project, *, limit: int = 500) -> list[str]:
    """`key:value` for each tag value seen in a project, as the explorer's tag box takes them."""
    rows = MetricTagValue.objects.filter(project=project).order_by("key", "value").values_list("key", "value")
    return [f"{key}:{value}" for key, value in rows[:limit]]
