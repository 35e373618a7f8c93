"""Rollups by minute, hour and day, and the uptime and percentile figures read from them."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import HeartbeatPing, ProbeResult, TargetRollup
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP
from monitoring.uptime.selectors import uptime_by_target
from monitoring.uptime.services.rollups import Tally, rollups_advance, uptime_prune
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = pytest.mark.django_db
DAY0 = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


def results(target, start, count, every, outcome=UP, latency=100):
    ProbeResult.objects.bulk_create(
        ProbeResult(
            target_id=target.pk,
            checked_at=start + i * every,
            outcome=outcome,
            latency_ms=latency(i) if callable(latency) else latency,
        )
        for i in range(count)
    )


def test_uptime_counts_degraded_as_up_and_down_as_down():
    target = TargetFactory()
    results(target, DAY0, 90, dt.timedelta(minutes=1))  # 01:30 of up
    results(target, DAY0 + dt.timedelta(minutes=90), 20, dt.timedelta(minutes=1), outcome=DEGRADED)
    results(target, DAY0 + dt.timedelta(minutes=110), 10, dt.timedelta(minutes=1), outcome=DOWN, latency=10_000)
    now = DAY0 + dt.timedelta(hours=2, minutes=10)
    rollups_advance(now=now)
    figures = uptime_by_target(target_ids=[target.pk], window=dt.timedelta(hours=24), now=now)[target.pk]
    assert figures.probes == 120
    assert figures.uptime_pct == pytest.approx(100 * 110 / 120, abs=0.001)
    assert figures.p95_ms == 100  # failures' timeouts don't count as response times


def test_percentiles_stay_within_the_histogram_error():
    target = TargetFactory()
    rng = random.Random(7)
    latencies = [rng.randint(20, 2000) for _ in range(600)]
    results(target, DAY0, 600, dt.timedelta(seconds=10), latency=lambda i: latencies[i])
    now = DAY0 + dt.timedelta(hours=3)
    rollups_advance(now=now)
    figures = uptime_by_target(target_ids=[target.pk], window=dt.timedelta(hours=24), now=now)[target.pk]
    exact = sorted(latencies)
    assert figures.p50_ms == pytest.approx(exact[299], rel=0.1)
    assert figures.p95_ms == pytest.approx(exact[569], rel=0.1)


def test_days_roll_up_from_hours_and_a_90_day_figure_reads_no_raw_rows():
    target = TargetFactory()
    for day in range(3):
        results(target, DAY0 + dt.timedelta(days=day), 24, dt.timedelta(hours=1), outcome=DOWN if day == 1 else UP)
    now = DAY0 + dt.timedelta(days=3, hours=1)
    written = rollups_advance(now=now)
    assert written[TargetRollup.Resolution.DAY] == 3
    with CaptureQueriesContext(connection) as queries:
        figures = uptime_by_target(target_ids=[target.pk], window=dt.timedelta(days=90), now=now)[target.pk]
    # The cursors, then the rollups; never the raw results.
    assert len(queries) == 2 and not any("proberesult" in q["sql"] for q in queries)
    assert (figures.probes, figures.uptime_pct) == (72, pytest.approx(66.667, abs=0.001))


def test_rolling_up_again_changes_nothing_and_recent_minutes_wait():
    target = TargetFactory()
    results(target, DAY0, 10, dt.timedelta(minutes=1))
    rollups_advance(now=DAY0 + dt.timedelta(minutes=5))  # minutes 0-1 are settled, 2-9 may still grow
    assert TargetRollup.objects.filter(resolution=60).count() == 2
    rollups_advance(now=DAY0 + dt.timedelta(minutes=30))
    rollups_advance(now=DAY0 + dt.timedelta(minutes=30))
    assert TargetRollup.objects.filter(resolution=60).count() == 10
    assert sum(TargetRollup.objects.filter(resolution=60).values_list("count", flat=True)) == 10


def test_histograms_merge_by_addition():
    a, b = Tally(), Tally()
    for ms in (10, 20, 30):
        a.add_result(UP, ms)
    for ms in (1000, 2000):
        b.add_result(UP, ms)
    merged = Tally()
    for tally in (a, b):
        merged.add_rollup(tally.as_rollup(target_id=1, resolution=60, bucket_start=DAY0))
    assert (merged.count, merged.latency_min, merged.latency_max) == (5, 10, 2000)
    assert merged.percentile(0.5) == pytest.approx(30, rel=0.1)


def test_retention_keeps_rollups_longer_than_raw_results():
    target = TargetFactory()
    results(target, DAY0, 48, dt.timedelta(hours=1))
    heartbeat = HeartbeatFactory()
    for age_days in (100, 10):
        HeartbeatPing.objects.create(
            heartbeat=heartbeat,
            received_at=DAY0 + dt.timedelta(days=30 - age_days),
            kind=HeartbeatPing.Kind.SUCCESS,
            method="GET",
        )
    rollups_advance(now=DAY0 + dt.timedelta(days=3))
    uptime_prune(now=DAY0 + dt.timedelta(days=30))
    assert ProbeResult.objects.count() == 0
    assert HeartbeatPing.objects.count() == 1
    assert not TargetRollup.objects.filter(resolution=60).exists()
    assert TargetRollup.objects.filter(resolution=86400).count() == 2
    uptime_prune(now=DAY0 + dt.timedelta(days=500))
    assert TargetRollup.objects.count() == 0


def test_rollups_written_without_a_cursor_count_as_closed_buckets():
    # Rollups can arrive without the rollup task (an import, a restore): their closed hours count.
    target = TargetFactory()
    now = DAY0 + dt.timedelta(hours=5, minutes=30)
    TargetRollup.objects.create(
        target_id=target.pk,
        resolution=3600,
        bucket_start=DAY0 + dt.timedelta(hours=3),
        count=60,
        up_count=30,
        degraded_count=0,
        latency_count=30,
        latency_sum=3000,
        latency_min=100,
        latency_max=100,
        histogram={},
    )
    figures = uptime_by_target(target_ids=[target.pk], window=dt.timedelta(hours=24), now=now)[target.pk]
    assert (figures.probes, figures.uptime_pct) == (60, 50.0)
