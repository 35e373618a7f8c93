"""Building minute and hour rollups from raw points, for the minutes ingest marked.

A marked minute is rebuilt whole from its raw points, and each hour it falls in is
rebuilt whole from its minute rollups: replacing, never adding, so running twice gives
the same rows and a point arriving late (up to TELEMETRY_MAX_LATENESS_SECONDS, which
ingest enforces) just marks its minute again and is folded in on the next tick.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from monitoring.models import MetricPoint, MetricRollup, RollupBacklog
from monitoring.telemetry.histogram import Histogram

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# Any fixed number: the PostgreSQL advisory lock that keeps two builds from interleaving.
_LOCK_ID = 4_815_162_342
_CHUNK = 500


def rollups_build(*, max_minutes: int = 1440) -> int:
    """Rebuild the oldest `max_minutes` marked minutes and their hours; returns how many."""
    with transaction.atomic():
        if not _lock():
            return 0  # another worker is building; the marks wait for the next tick
        marks = list(RollupBacklog.objects.order_by("minute").values_list("minute", "marked_at")[:max_minutes])
        if not marks:
            return 0
        minutes = [minute for minute, _ in marks]
        _replace(MetricRollup.Resolution.MINUTE, minutes, _minutes_from_points(minutes))
        hours = sorted({minute.replace(minute=0) for minute in minutes})
        _replace(MetricRollup.Resolution.HOUR, hours, _hours_from_minutes(hours))
        _unmark(marks)
    return len(marks)


def _lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite transactions here are IMMEDIATE: writers already queue
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_ID])
        return cursor.fetchone()[0]


def _minutes_from_points(minutes: list[datetime]) -> dict[tuple[int, datetime], Histogram]:
    histograms = defaultdict(Histogram)
    for start, end in _runs(minutes, MINUTE):
        rows = MetricPoint.objects.filter(timestamp__gte=start, timestamp__lt=end).values_list(
            "series_id", "timestamp", "value"
        )
        for series_id, timestamp, value in rows.iterator(chunk_size=10_000):
            histograms[series_id, timestamp.replace(second=0, microsecond=0)].add(value)
    return histograms


def _hours_from_minutes(hours: list[datetime]) -> dict[tuple[int, datetime], Histogram]:
    histograms = defaultdict(Histogram)
    for start, end in _runs(hours, HOUR):
        rows = MetricRollup.objects.filter(
            resolution=MetricRollup.Resolution.MINUTE, start__gte=start, start__lt=end
        ).values("series_id", "start", "sum", "min", "max", "histogram")
        for row in rows.iterator(chunk_size=5_000):
            histograms[row["series_id"], row["start"].replace(minute=0)].merge(Histogram.from_row(row))
    return histograms


def _replace(resolution: int, starts: list[datetime], histograms: dict) -> None:
    for chunk in _chunks(starts):
        MetricRollup.objects.filter(resolution=resolution, start__in=chunk).delete()
    MetricRollup.objects.bulk_create(
        (
            MetricRollup(
                series_id=series_id, resolution=resolution, start=start, count=h.count, sum=h.sum,
                min=h.min, max=h.max, histogram=h.encode(),
            )
            for (series_id, start), h in histograms.items()
        ),
        batch_size=1000,
    )


def _unmark(marks: list[tuple[datetime, datetime]]) -> None:
    """Clear the marks we built from, unless ingest marked the minute again meanwhile."""
    for chunk in _chunks(marks):
        condition = Q()
        for minute, marked_at in chunk:
            condition |= Q(minute=minute, marked_at=marked_at)
        RollupBacklog.objects.filter(condition).delete()


def _runs(starts: list[datetime], width: timedelta) -> Iterable[tuple[datetime, datetime]]:
    """Sorted bucket starts as [start, end) ranges of consecutive buckets: one query each."""
    run_start = previous = None
    for start in sorted(starts):
        if previous is not None and start != previous + width:
            yield run_start, previous + width
            run_start = None
        run_start = run_start or start
        previous = start
    if previous is not None:
        yield run_start, previous + width


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for index in range(0, len(items), size):
        yield items[index:index + size]
