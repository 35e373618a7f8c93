"""Building minute and hour rollups from raw points, for the minutes ingest marked, and
day rollups from closed hours.

A marked minute is rebuilt whole from its raw points, and each hour it falls in is
rebuilt whole from its minute rollups: replacing, never adding, so running twice gives
the same rows and a point arriving late (up to TELEMETRY_MAX_LATENESS_SECONDS, which
ingest enforces) just marks its minute again and is folded in on the next tick.

One build covers every project, so a failure stays with the series it belongs to: a raw
point beyond what aggregates hold (ingest refuses them, older rows may hold them) is left
out of its minute, a minute rollup that cannot be read or would overflow its hour is left
out of that hour, and a statement the database fails is retried series by series. Every
such skip is logged and counted (lookout_telemetry_rollup_skips_total) and the build goes
on; one poisoned series never stops another project's rollups, nor the rules that read them.

Days are folded from hours once no point can arrive for them any more (their end plus
TELEMETRY_MAX_LATENESS_SECONDS, and no mark left before it), in order, behind a cursor
(MetricRollupCursor): a reader takes days before the cursor and hours after it. Should a
mark still land in a folded day, that day is folded again with its hours.
"""

import logging
import math
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from prometheus_client import Counter

from monitoring.models import MetricPoint, MetricRollup, MetricRollupCursor, MetricSeries, RollupBacklog
from monitoring.telemetry.histogram import LOG_GAMMA, ZERO_THRESHOLD, Histogram
from monitoring.telemetry.payloads import MAX_ABS_VALUE
from monitoring.telemetry.selectors.rollups import DAY, days_folded_until, floor_time

logger = logging.getLogger(__name__)

SKIPS = Counter(
    "lookout_telemetry_rollup_skips",
    "Series left out of a rollup bucket because their input could not be aggregated.",
    ["reason"],
)
# Why a series' input was left out (a label of SKIPS, and the log line's word).
OUT_OF_RANGE = "value_out_of_range"  # a raw point not finite, or beyond payloads.MAX_ABS_VALUE
OVERFLOW = "overflow"  # a bucket whose sum, min or max is not finite
CORRUPT = "corrupt_rollup"  # a minute rollup whose histogram cannot be decoded
DATABASE = "database_error"  # the database failed the statement for this series alone
_LISTED = 10  # series named per log line; the count covers the rest

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY_RESOLUTION = MetricRollup.Resolution.DAY
# Any fixed number: the PostgreSQL advisory lock that keeps two builds from interleaving.
_LOCK_ID = 4_815_162_342
_CHUNK = 500

# One histogram per series and bucket start.
Histograms = dict[tuple[int, datetime], Histogram]
_T = TypeVar("_T")


class Skips:
    """What one build left out: per reason, the series and how many inputs of each."""

    def __init__(self) -> None:
        self.by_reason: defaultdict[str, Tally[int]] = defaultdict(Tally)

    def add(self, reason: str, series_id: int, inputs: int = 1) -> None:
        self.by_reason[reason][series_id] += inputs

    def report(self) -> None:
        for reason, series in self.by_reason.items():
            SKIPS.labels(reason=reason).inc(len(series))
            listed = MetricSeries.objects.filter(pk__in=sorted(series)[:_LISTED]).values_list(
                "pk", "project_id", "name"
            )
            logger.error(
                "rollups left out %d inputs of %d series (%s): %s%s",
                sum(series.values()),
                len(series),
                reason,
                ", ".join(f"series {pk} {name!r} of project {project_id}" for pk, project_id, name in listed),
                "" if len(series) <= _LISTED else f" and {len(series) - _LISTED} more",
            )


def rollups_build(*, max_minutes: int = 1440) -> int:
    """Rebuild the oldest `max_minutes` marked minutes and their hours; returns how many."""
    skips = Skips()
    with transaction.atomic():
        if not _lock():
            return 0  # another worker is building; the marks wait for the next tick
        marks = list(RollupBacklog.objects.order_by("minute").values_list("minute", "marked_at")[:max_minutes])
        if not marks:
            return 0
        minutes = [minute for minute, _ in marks]
        _replace(MetricRollup.Resolution.MINUTE, minutes, _minutes_from_points(minutes, skips), skips)
        hours = sorted({minute.replace(minute=0) for minute in minutes})
        _rebuild(MetricRollup.Resolution.HOUR, hours, skips)
        folded = days_folded_until()
        days = sorted({floor_time(hour, DAY) for hour in hours if folded and hour < folded})
        if days:  # a late mark in a day already folded: fold it again, whole
            _rebuild(MetricRollup.Resolution.DAY, days, skips)
        _unmark(marks)
    skips.report()
    return len(marks)


def rollups_fold_days(*, now: datetime | None = None, max_days: int = 60) -> int:
    """Fold up to `max_days` closed days from their hours, after the cursor; returns how many."""
    now = now or timezone.now()
    skips = Skips()
    with transaction.atomic():
        if not _lock():
            return 0
        closed = floor_time(now - timedelta(seconds=settings.TELEMETRY_MAX_LATENESS_SECONDS), DAY)
        oldest_mark = RollupBacklog.objects.order_by("minute").values_list("minute", flat=True).first()
        if oldest_mark is not None:
            closed = min(closed, floor_time(oldest_mark, DAY))
        start = days_folded_until()
        if start is None:  # the first fold starts at the oldest hour kept, once there is one
            oldest = MetricRollup.objects.filter(resolution=MetricRollup.Resolution.HOUR).order_by("start")
            first_hour = oldest.values_list("start", flat=True).first()
            if first_hour is None:
                return 0
            start = floor_time(first_hour, DAY)
        end = max(start, min(closed, start + max_days * DAY))
        days = [start + i * DAY for i in range((end - start) // DAY)]
        if days:
            _rebuild(MetricRollup.Resolution.DAY, days, skips)
        MetricRollupCursor.objects.update_or_create(resolution=DAY_RESOLUTION, defaults={"done_until": end})
    skips.report()
    return len(days)


def _lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite transactions here are IMMEDIATE: writers already queue
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_ID])
        return cursor.fetchone()[0]


def _minutes_from_points(minutes: list[datetime], skips: Skips) -> Histograms:
    histograms: defaultdict[tuple[int, datetime], Histogram] = defaultdict(Histogram)
    for start, end in _runs(minutes, MINUTE):
        if connection.vendor == "postgresql":
            _bucket_in_database(histograms, start, end, skips)
            continue
        rows = MetricPoint.objects.filter(timestamp__gte=start, timestamp__lt=end).values_list(
            "series_id", "timestamp", "value"
        )
        for series_id, timestamp, value in rows.iterator(chunk_size=10_000):
            if not abs(value) <= MAX_ABS_VALUE:  # not `>`: NaN compares false both ways
                skips.add(OUT_OF_RANGE, series_id)
                continue
            histograms[series_id, timestamp.replace(second=0, microsecond=0)].add(value)
    return histograms


# PostgreSQL sorts the points into histogram buckets itself, with the same formula as
# histogram._index(), and sends one row per series and minute with its buckets as arrays,
# however many points there were. Points beyond MAX_ABS_VALUE (or NaN, which PostgreSQL
# sorts above every number) get sign 2 and take no part in any sum: summing two of them
# fails the whole statement with "value out of range: overflow", and so every project's
# rollups. Their count comes back in their bucket, to be reported.
_OUT_OF_RANGE_SIGN = 2
_BUCKETED = f"""
SELECT series_id, extract(epoch FROM minute)::bigint, sum(total), min(low), max(high),
       array_agg(sign), array_agg(bucket), array_agg(n)
FROM (
    SELECT series_id, date_trunc('minute', "timestamp") AS minute,
           CASE WHEN NOT abs(value) <= %(bound)s THEN {_OUT_OF_RANGE_SIGN}
                WHEN value > %(zero)s THEN 1 WHEN value < -%(zero)s THEN -1 ELSE 0 END AS sign,
           CASE WHEN abs(value) > %(zero)s AND abs(value) <= %(bound)s
                THEN ceil(ln(abs(value)) / %(log_gamma)s)::int ELSE 0 END AS bucket,
           count(*)::int AS n,
           sum(value) FILTER (WHERE abs(value) <= %(bound)s) AS total,
           min(value) FILTER (WHERE abs(value) <= %(bound)s) AS low,
           max(value) FILTER (WHERE abs(value) <= %(bound)s) AS high
    FROM "{MetricPoint._meta.db_table}"
    WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s {{series}}
    GROUP BY 1, 2, 3, 4
) AS buckets
GROUP BY 1, 2
"""
_SERIES_IN_RANGE = f"""
SELECT DISTINCT series_id FROM "{MetricPoint._meta.db_table}" WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s
"""


def _bucket_in_database(histograms: Histograms, start: datetime, end: datetime, skips: Skips) -> None:
    """All series of the range in one statement; should the database fail it, series by
    series, so only the series it fails on is left out."""
    found: Histograms = {}
    try:
        with transaction.atomic():  # a savepoint: the build's transaction survives a failure
            _bucket_rows(found, start, end, skips, series_id=None)
    except (OperationalError, InterfaceError):
        raise  # the database is gone, not a series' fault: the whole tick fails and retries
    except DatabaseError:
        logger.exception("rollups of %s..%s failed as one statement; building them series by series", start, end)
        found = {}
        with connection.cursor() as cursor:
            cursor.execute(_SERIES_IN_RANGE, {"start": start, "end": end})
            series_ids = [row[0] for row in cursor]
        for series_id in series_ids:
            try:
                with transaction.atomic():
                    _bucket_rows(found, start, end, skips, series_id=series_id)
            except (OperationalError, InterfaceError):
                raise
            except DatabaseError:
                logger.exception("rollups of series %s for %s..%s failed", series_id, start, end)
                skips.add(DATABASE, series_id)
    histograms.update(found)


def _bucket_rows(
    histograms: Histograms, start: datetime, end: datetime, skips: Skips, *, series_id: int | None
) -> None:
    params: dict[str, float | int | datetime] = {
        "zero": ZERO_THRESHOLD,
        "log_gamma": LOG_GAMMA,
        "bound": MAX_ABS_VALUE,
        "start": start,
        "end": end,
    }
    statement = _BUCKETED.format(series="" if series_id is None else "AND series_id = %(series_id)s")
    if series_id is not None:
        params["series_id"] = series_id
    minutes: dict[int, datetime] = {}  # epoch seconds → datetime, made once per minute rather than per row
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for row_series, epoch, total, low, high, signs, indexes, counts in cursor:
            if _OUT_OF_RANGE_SIGN in signs:
                kept = [i for i, sign in enumerate(signs) if sign != _OUT_OF_RANGE_SIGN]
                skips.add(OUT_OF_RANGE, row_series, sum(counts) - sum(counts[i] for i in kept))
                if not kept:
                    continue
                signs, indexes, counts = [signs[i] for i in kept], [indexes[i] for i in kept], [counts[i] for i in kept]
            if epoch not in minutes:
                minutes[epoch] = datetime.fromtimestamp(epoch, UTC)
            histograms[row_series, minutes[epoch]] = Histogram.from_buckets(
                signs=signs, indexes=indexes, counts=counts, total=total, minimum=low, maximum=high
            )


def _rebuild(resolution: int, starts: list[datetime], skips: Skips) -> None:
    """Replace the `resolution` buckets at `starts` with their finer rollups merged."""
    source: dict[int, int] = {
        MetricRollup.Resolution.HOUR: MetricRollup.Resolution.MINUTE,
        DAY_RESOLUTION: MetricRollup.Resolution.HOUR,
    }
    _replace(resolution, starts, _merged(source[resolution], starts, timedelta(seconds=resolution), skips), skips)


def _merged(source: int, starts: list[datetime], width: timedelta, skips: Skips) -> Histograms:
    """The buckets of `width` at `starts`, each merged from its `source` rollups."""
    histograms: defaultdict[tuple[int, datetime], Histogram] = defaultdict(Histogram)
    for start, end in _runs(starts, width):
        rows = MetricRollup.objects.filter(resolution=source, start__gte=start, start__lt=end).values(
            "series_id", "start", "sum", "min", "max", "histogram"
        )
        for row in rows.iterator(chunk_size=5_000):
            try:
                part = Histogram.from_row(row)
            except Exception:  # any way a stored histogram can be unreadable; it stays with its series
                logger.exception("the rollup of series %s at %s cannot be read", row["series_id"], row["start"])
                skips.add(CORRUPT, row["series_id"])
                continue
            histograms[row["series_id"], floor_time(row["start"], width)].merge(part)
    return histograms


def _finite(histogram: Histogram) -> bool:
    return math.isfinite(histogram.sum) and math.isfinite(histogram.min) and math.isfinite(histogram.max)


def _replace(resolution: int, starts: list[datetime], histograms: Histograms, skips: Skips) -> None:
    for chunk in _chunks(starts):
        MetricRollup.objects.filter(resolution=resolution, start__in=chunk).delete()
    # A bucket that went infinite (minute rows written before values were bounded) is left
    # out rather than stored: an infinite sum cannot be answered as JSON by any query.
    for (series_id, start), histogram in list(histograms.items()):
        if not _finite(histogram):
            skips.add(OVERFLOW, series_id)
            del histograms[series_id, start]
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
