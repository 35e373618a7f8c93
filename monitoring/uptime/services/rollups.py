"""Roll probe results up by minute, minutes into hours, hours into days; prune what has aged out.

Each resolution resumes from its cursor and writes a closed bucket once, in the same
transaction that moves the cursor, so a crash or a second worker never double-counts.
"""

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from monitoring.models import HeartbeatPing, ProbeResult, TargetRollup, TargetRollupCursor
from monitoring.uptime.probes.base import DEGRADED, DOWN

Resolution = TargetRollup.Resolution
# Results are stamped with the probe's start and stored when its batch ends, at most a
# task time limit (120 s) later; a minute is rolled up only once nothing more can land in it.
SETTLE = timedelta(minutes=3)
MINUTES_PER_PASS = 10
LATENCY_GROWTH = 1.1  # each histogram bucket is 10 % wider than the last: ±5 % on percentiles
# A resolution's rollups of the closed span [start, end), built from the finer data.
RollupSource = Callable[[datetime, datetime], list[TargetRollup]]


ROLLUP_COUNTS = (
    "count",
    "up_count",
    "degraded_count",
    "latency_count",
    "latency_sum",
    "latency_min",
    "latency_max",
    "histogram",
)


def latency_bucket(ms: int) -> int:
    return math.ceil(math.log(ms + 1) / math.log(LATENCY_GROWTH))


def bucket_upper_ms(index: int) -> float:
    return LATENCY_GROWTH**index - 1


def floor_time(moment: datetime, resolution: int) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % resolution, tz=UTC)


@dataclass
class Tally:
    count: int = 0
    up: int = 0
    degraded: int = 0
    latency_count: int = 0
    latency_sum: int = 0
    latency_min: int | None = None
    latency_max: int | None = None
    histogram: dict[str, int] = field(default_factory=dict)

    def add_result(self, outcome: int, latency_ms: int | None) -> None:
        self.count += 1
        if outcome == DOWN:
            return
        self.up += 1
        self.degraded += outcome == DEGRADED
        if latency_ms is not None:
            self._add_latency(1, latency_ms, latency_ms, latency_ms, {str(latency_bucket(latency_ms)): 1})

    def add_rollup(self, rollup: TargetRollup) -> None:
        self.add_counts(*(getattr(rollup, name) for name in ROLLUP_COUNTS))

    def add_counts(
        self,
        count: int,
        up: int,
        degraded: int,
        latency_count: int,
        latency_sum: int,
        latency_min: int | None,
        latency_max: int | None,
        histogram: dict[str, int],
    ) -> None:
        """A rollup's ROLLUP_COUNTS in order, as a values_list() row gives them without a model."""
        self.count += count
        self.up += up
        self.degraded += degraded
        if latency_count and latency_min is not None and latency_max is not None:
            self._add_latency(latency_count, latency_sum, latency_min, latency_max, histogram)

    def _add_latency(self, count: int, total: int, low: int, high: int, histogram: dict[str, int]) -> None:
        self.latency_count += count
        self.latency_sum += total
        self.latency_min = low if self.latency_min is None else min(self.latency_min, low)
        self.latency_max = high if self.latency_max is None else max(self.latency_max, high)
        for index, n in histogram.items():
            self.histogram[index] = self.histogram.get(index, 0) + n

    def percentile(self, fraction: float) -> int | None:
        if not self.latency_count or self.latency_max is None:
            return None
        wanted, seen = fraction * self.latency_count, 0
        for index in sorted(self.histogram, key=int):
            seen += self.histogram[index]
            if seen >= wanted:
                return min(round(bucket_upper_ms(int(index))), self.latency_max)
        return self.latency_max

    def as_rollup(self, *, target_id: int, resolution: int, bucket_start: datetime) -> TargetRollup:
        return TargetRollup(
            target_id=target_id,
            resolution=resolution,
            bucket_start=bucket_start,
            count=self.count,
            up_count=self.up,
            degraded_count=self.degraded,
            latency_count=self.latency_count,
            latency_sum=self.latency_sum,
            latency_min=self.latency_min,
            latency_max=self.latency_max,
            histogram=self.histogram,
        )


def rollups_advance(*, now: datetime) -> dict[int, int]:
    """Roll up every closed bucket; returns rollups written per resolution."""
    written: dict[int, int] = {Resolution.MINUTE: 0, Resolution.HOUR: 0, Resolution.DAY: 0}
    minute_end = floor_time(now - SETTLE, Resolution.MINUTE)
    while (done := _pass(Resolution.MINUTE, until=minute_end, source=_minutes_from_results)) is not None:
        written[Resolution.MINUTE] += done
    for resolution, finer in ((Resolution.HOUR, Resolution.MINUTE), (Resolution.DAY, Resolution.HOUR)):
        finer_done = TargetRollupCursor.objects.filter(resolution=finer).values_list("done_until", flat=True).first()
        if finer_done is None:
            continue
        until = floor_time(finer_done, resolution)
        while (done := _pass(resolution, until=until, source=_merge_finer(finer))) is not None:
            written[resolution] += done
    return written


def _pass(resolution: int, *, until: datetime, source: RollupSource) -> int | None:
    """Roll up the next span up to `until`; None when there is nothing left to do."""
    with transaction.atomic():
        cursor = _lock_cursor(resolution)
        if cursor is None:
            start = _first_data(resolution)
            if start is None:
                return None
            cursor = TargetRollupCursor.objects.create(resolution=resolution, done_until=start)
        if cursor.done_until >= until:
            return None
        span = MINUTES_PER_PASS * 60 if resolution == Resolution.MINUTE else resolution
        end = min(until, cursor.done_until + timedelta(seconds=span))
        rollups = source(cursor.done_until, end)
        TargetRollup.objects.bulk_create(rollups, batch_size=1000)
        cursor.done_until = end
        cursor.save(update_fields=["done_until"])
        return len(rollups)


def _lock_cursor(resolution: int) -> TargetRollupCursor | None:
    cursors = TargetRollupCursor.objects.filter(resolution=resolution)
    if connection.features.has_select_for_update:
        cursors = cursors.select_for_update()
    return cursors.first()


def _first_data(resolution: int) -> datetime | None:
    if resolution == Resolution.MINUTE:
        first = ProbeResult.objects.order_by("checked_at").values_list("checked_at", flat=True).first()
    else:
        finer = Resolution.MINUTE if resolution == Resolution.HOUR else Resolution.HOUR
        first = (
            TargetRollup.objects.filter(resolution=finer)
            .order_by("bucket_start")
            .values_list("bucket_start", flat=True)
            .first()
        )
    return floor_time(first, resolution) if first else None


def _minutes_from_results(start: datetime, end: datetime) -> list[TargetRollup]:
    tallies: dict[tuple[int, datetime], Tally] = defaultdict(Tally)
    rows = ProbeResult.objects.filter(checked_at__gte=start, checked_at__lt=end).values_list(
        "target_id", "checked_at", "outcome", "latency_ms"
    )
    for target_id, checked_at, outcome, latency_ms in rows.iterator(chunk_size=5000):
        tallies[(target_id, floor_time(checked_at, Resolution.MINUTE))].add_result(outcome, latency_ms)
    return [t.as_rollup(target_id=k[0], resolution=Resolution.MINUTE, bucket_start=k[1]) for k, t in tallies.items()]


def _merge_finer(finer: int) -> RollupSource:
    def merge(start: datetime, end: datetime) -> list[TargetRollup]:
        coarser = Resolution.HOUR if finer == Resolution.MINUTE else Resolution.DAY
        tallies: dict[tuple[int, datetime], Tally] = defaultdict(Tally)
        rows = TargetRollup.objects.filter(resolution=finer, bucket_start__gte=start, bucket_start__lt=end)
        for rollup in rows.iterator(chunk_size=5000):
            tallies[(rollup.target_id, floor_time(rollup.bucket_start, coarser))].add_rollup(rollup)
        return [t.as_rollup(target_id=k[0], resolution=coarser, bucket_start=k[1]) for k, t in tallies.items()]

    return merge


def uptime_prune(*, now: datetime) -> int:
    """Drop raw results and minute rollups past UPTIME_RAW_RETENTION_DAYS, hours and days past
    UPTIME_ROLLUP_RETENTION_DAYS, heartbeat pings past HEARTBEAT_PING_RETENTION_DAYS."""
    raw_cutoff = now - timedelta(days=settings.UPTIME_RAW_RETENTION_DAYS)
    deleted, _ = ProbeResult.objects.filter(checked_at__lt=raw_cutoff).delete()
    rolled, _ = TargetRollup.objects.filter(resolution=Resolution.MINUTE, bucket_start__lt=raw_cutoff).delete()
    old, _ = TargetRollup.objects.filter(
        bucket_start__lt=now - timedelta(days=settings.UPTIME_ROLLUP_RETENTION_DAYS)
    ).delete()
    pings, _ = HeartbeatPing.objects.filter(
        received_at__lt=now - timedelta(days=settings.HEARTBEAT_PING_RETENTION_DAYS)
    ).delete()
    return deleted + rolled + old + pings
