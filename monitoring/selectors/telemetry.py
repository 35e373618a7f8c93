"""Reading metrics: `query()` is what dashboards, the explorer and alert rules call.

Answers come from rollups only (hour rollups when the step is whole hours, minute rollups
otherwise); percentiles merge the rollups' histograms, so a p95 over months costs a few
hundred small rows per series, never a sort of raw points.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from monitoring.models import MetricRollup, MetricSeries, Project
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
    return bucket.histogram.quantile(PERCENTILES[agg])


@dataclass(frozen=True)
class GroupValue:
    labels: dict[str, str]  # the series' tags, or {group_by: value}
    series: int
    value: float | None


def query_groups(
    project: Project,
    name: str,
    tags: dict[str, str] | None = None,
    agg: str = "avg",
    window: timedelta = timedelta(hours=1),
    *,
    group_by: str | None = None,
    end: datetime | None = None,
) -> list[GroupValue]:
    """`agg` over the `window` per series (group_by None) or per value of the tag `group_by`
    (series without that tag are left out), from the same rollups as query(), in two statements."""
    resolution = _resolution(agg, window, window)
    end = _ceil(end or timezone.now(), resolution)
    series = [
        s
        for s in MetricSeries.objects.filter(project=project, name=name).only("id", "tags", "kind")
        if all(s.tags.get(key) == value for key, value in (tags or {}).items())
        and (group_by is None or group_by in s.tags)
    ]
    group_of = {
        s.id: tuple(sorted(s.tags.items())) if group_by is None else ((group_by, s.tags[group_by]),) for s in series
    }
    members: dict[tuple, list[MetricSeries]] = {}
    for s in series:
        members.setdefault(group_of[s.id], []).append(s)
    accumulators = {key: _Accumulator() for key in members}
    wants_histogram = agg in PERCENTILES
    columns = ["series_id", "count", "sum", "min", "max", *(["histogram"] if wants_histogram else [])]
    rows = MetricRollup.objects.filter(
        series_id__in=list(group_of), resolution=resolution, start__gte=end - window, start__lt=end
    ).values(*columns)
    for row in rows.iterator(chunk_size=5_000):
        bucket = accumulators[group_of[row["series_id"]]]
        bucket.count += row["count"]
        bucket.sum += row["sum"]
        bucket.min = row["min"] if bucket.min is None else min(bucket.min, row["min"])
        bucket.max = row["max"] if bucket.max is None else max(bucket.max, row["max"])
        if wants_histogram:
            bucket.histogram = bucket.histogram or Histogram()
            bucket.histogram.merge(Histogram.from_row(row))
    return [
        GroupValue(
            labels=dict(key), series=len(group),
            value=_value(agg, accumulators[key], window,
                         all(s.kind == MetricSeries.Kind.COUNTER for s in group)),
        )
        for key, group in sorted(members.items())
    ]


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
