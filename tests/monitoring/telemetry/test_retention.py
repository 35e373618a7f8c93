"""Retention per resolution; on PostgreSQL a day of raw points goes by dropping its partition."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from monitoring.models import MetricPoint, MetricRollup, MetricSeries
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.partitions import points
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.retention import telemetry_retention_apply

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def add_points(project, *moments):
    telemetry_ingest(project=project, points=[PointIn(name="m", value=1, timestamp=t) for t in moments])
    if connection.vendor == "postgresql":
        # In production the points were committed long before retention runs; inside
        # the test's transaction their deferred foreign-key checks would block DROP.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def add_rollup(series, resolution, start):
    h = Histogram.of([1.0])
    MetricRollup.objects.create(
        series=series, resolution=resolution, start=start, count=1, sum=1, min=1, max=1, histogram=h.encode()
    )


@time_machine.travel(NOW, tick=False)
def test_each_resolution_keeps_its_own_retention(project):
    add_points(project, NOW - timedelta(days=8), NOW - timedelta(days=6, hours=23), NOW)
    series = MetricSeries.objects.get()
    for days in (29, 31):
        add_rollup(series, 60, NOW - timedelta(days=days))
    for days in (399, 401):
        add_rollup(series, 3600, NOW - timedelta(days=days))
    for days in (799, 801):
        add_rollup(series, 86400, NOW - timedelta(days=days))

    telemetry_retention_apply()

    assert sorted(MetricPoint.objects.values_list("timestamp", flat=True)) == [
        NOW - timedelta(days=6, hours=23),
        NOW,
    ]
    assert list(MetricRollup.objects.filter(resolution=60).values_list("start", flat=True)) == [
        NOW - timedelta(days=29)
    ]
    assert list(MetricRollup.objects.filter(resolution=3600).values_list("start", flat=True)) == [
        NOW - timedelta(days=399)
    ]
    assert list(MetricRollup.objects.filter(resolution=86400).values_list("start", flat=True)) == [
        NOW - timedelta(days=799)
    ]


@time_machine.travel(NOW, tick=False)
def test_retention_is_configurable(project, settings):
    settings.TELEMETRY_RAW_RETENTION_DAYS = 1
    add_points(project, NOW - timedelta(days=3), NOW)
    telemetry_retention_apply()
    assert MetricPoint.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
@time_machine.travel(NOW, tick=False)
def test_old_days_are_dropped_as_whole_partitions(project):
    days = [NOW - timedelta(days=d) for d in (9, 8, 7, 6, 0)]
    add_points(project, *days)
    assert points.days() == [d.date() for d in days]

    result = telemetry_retention_apply()

    # 2026-11-15 ends at 11-16 00:00, still inside 7 days of 11-22 12:00: its partition stays.
    assert result.raw == 2
    assert points.days() == [d.date() for d in days[2:]]
    assert MetricPoint.objects.count() == 3
