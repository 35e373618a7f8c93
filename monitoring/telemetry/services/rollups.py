"""Building minute and hour rollups from raw points, for the minutes ingest marked.

A marked minute is rebuilt whole from its raw points, and each hour it falls in is
rebuilt whole from its minute rollups: replacing, never adding, so running twice gives
the same rows and a point arriving late (up to TELEMETRY_MAX_LATENESS_SECONDS, which
ingest enforces) just marks its minute again and is folded in on the next tick.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import Q

from monitoring.models import MetricPoint, MetricRollup, RollupBacklog
from monitoring.telemetry.histogram import LOG_GAMMA, ZERO_THRESHOLD, Histogram

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# Any fixed number: the PostgreSQL advisory lock that keeps two builds from interleaving.
_LOCK_ID = 4_815_162_342
_CHUNK = 500

# One histogram per series and bucket start.
Histograms = dict[tuple[int, datetime], Histogram]
_T = TypeVar("_T")


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


def _minutes_from_points(minutes: list[datetime]) -> Histograms:
    histograms: defaultdict[tuple[int, datetime], Histogram] = defaultdict(Histogram)
    for start, end in _runs(minutes, MINUTE):
        if connection.vendor == "postgresql":
            _bucket_in_database(histograms, start, end)
            continue
        rows = MetricPoint.objects.filter(timestamp__gte=start, timestamp__lt=end).values_list(
            "series_id", "timestamp", "value"
        )
        for series_id, timestamp, value in rows.iterator(chunk_size=10_000):
            histograms[series_id, timestamp.replace(second=0, microsecond=0)].add(value)
    return histograms


# PostgreSQL sorts the points into histogram buckets itself, with the same formula as
# histogram._index(), and sends one row per series and minute with its buckets as arrays,
# however many points there were.
_BUCKETED = f"""
SELECT series_id, extract(epoch FROM minute)::bigint, sum(n)::bigint, sum(total), min(low), max(high),
       array_agg(sign), array_agg(bucket), array_agg(n)
FROM (
    SELECT series_id, date_trunc('minute', "timestamp") AS minute,
           CASE WHEN value > %(zero)s THEN 1 WHEN value < -%(zero)s THEN -1 ELSE 0 END AS sign,
           CASE WHEN abs(value) > %(zero)s THEN ceil(ln(abs(value)) / %(log_gamma)s)::int ELSE 0 END AS bucket,
           count(*)::int AS n, sum(value) AS total, min(value) AS low, max(value) AS high
    FROM "{MetricPoint._meta.db_table}"
    WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s
    GROUP BY 1, 2, 3, 4
) AS buckets
GROUP BY 1, 2
"""


def _bucket_in_database(histograms: Histograms, start: datetime, end: datetime) -> None:
    minutes: dict[int, datetime] = {}  # epoch seconds → datetime, made once per minute rather than per row
    with connection.cursor() as cursor:
        cursor.execute(_BUCKETED, {"zero": ZERO_THRESHOLD, "log_gamma": LOG_GAMMA, "start": start, "end": end})
        for series_id, epoch, _, total, low, high, signs, indexes, counts in cursor:
            if epoch not in minutes:
                minutes[epoch] = datetime.fromtimestamp(epoch, UTC)
            histograms[series_id, minutes[epoch]] = Histogram.from_buckets(
                signs=signs, indexes=indexes, counts=counts, total=total, minimum=low, maximum=high
            )


def _hours_from_minutes(hours: list[datetime]) -> Histograms:
    histograms: defaultdict[tuple[int, datetime], Histogram] = defaultdict(Histogram)
    for start, end in _runs(hours, HOUR):
        rows = MetricRollup.objects.filter(
            resolution=MetricRollup.Resolution.MINUTE, start__gte=start, start__lt=end
        ).values("series_id", "start", "sum", "min", "max", "histogram")
        for row in rows.iterator(chunk_size=5_000):
            histograms[row["series_id"], row["start"].replace(minute=0)].merge(Histogram.from_row(row))
    return histograms


def _replace(resolution: int, starts: list[datetime], histograms: Histograms) -> None:
    for chunk in _chunks(starts):
        MetricRollup.objects.filter(resolution=resolution, start__in=chunk).delete()
    rows = (
        (series_id, resolution, start, h.count, h.sum, h.min, h.max, h.encode())
        for (series_id, start), h in histograms.items()
    )
    if connection.vendor != "postgresql":
        fields = ("series_id", "resolution", "start", "count", "sum", "min", "max", "histogram")
        MetricRollup.objects.bulk_create((MetricRollup(**dict(zip(fields, row))) for row in rows), batch_size=1000)
        return
    # COPY: an INSERT of thousands of rows with binary histograms costs seconds to build.
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f'COPY "{MetricRollup._meta.db_table}" (series_id, resolution, start, count, sum, min, max, histogram) '
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


def _unmark(marks: list[tuple[datetime, datetime]]) -> None:
    """Clear the marks we built from, unless ingest marked the minute again meanwhile."""
    for chunk in _chunks(marks):
        condition = Q()
        for minute, marked_at in chunk:
            condition |= Q(minute=minute, marked_at=marked_at)
        RollupBacklog.objects.filter(condition).delete()


def _runs(starts: list[datetime], width: timedelta) -> Iterable[tuple[datetime, datetime]]:
    """Sorted bucket starts as [start, end) ranges of consecutive buckets: one query each."""
    ordered = sorted(starts)
    if not ordered:
        return
    run_start = previous = ordered[0]
    for start in ordered[1:]:
        if start != previous + width:
            yield run_start, previous + width
            run_start = start
        previous = start
    yield run_start, previous + width


def _chunks(items: list[_T], size: int = _CHUNK) -> Iterable[list[_T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]
