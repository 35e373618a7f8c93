"""Uptime % and response-time percentiles per target, read from rollups only."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitoring.models import TargetRollup
from monitoring.services.target_rollups import ROLLUP_COUNTS, Tally, floor_time

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "90d": timedelta(days=90)}


@dataclass(frozen=True)
class UptimeFigures:
    probes: int
    uptime_pct: float | None
    p50_ms: int | None
    p95_ms: int | None


def uptime_by_target(*, target_ids: list[int], window: timedelta, now: datetime) -> dict[int, UptimeFigures]:
    """Figures over the closed buckets of the last `window`: hours up to 7 days, days beyond.

    One query whatever the number of targets: a 90-day figure reads 90 rows per target.
    """
    resolution = TargetRollup.Resolution.HOUR if window <= timedelta(days=7) else TargetRollup.Resolution.DAY
    since = floor_time(now - window, resolution)
    rows = (TargetRollup.objects.filter(target_id__in=target_ids, resolution=resolution, bucket_start__gte=since)
            .values_list("target_id", *ROLLUP_COUNTS))
    tallies: dict[int, Tally] = defaultdict(Tally)
    for target_id, *counts in rows.iterator(chunk_size=2000):
        tallies[target_id].add_counts(*counts)
    return {
        target_id: UptimeFigures(
            probes=tally.count,
            uptime_pct=round(100 * tally.up / tally.count, 3) if tally.count else None,
            p50_ms=tally.percentile(0.5),
            p95_ms=tally.percentile(0.95),
        )
        for target_id, tally in tallies.items()
    }
