"""Minute and hour rollups: built from the marked minutes, idempotent, and late points fold in."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine

from monitoring.models import MetricRollup, RollupBacklog
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services import rollups as telemetry_rollups
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from monitoring.telemetry.tasks import build_rollups

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def ingest(project, values, at, name="latency", **tags):
    telemetry_ingest(project=project, points=[PointIn(name=name, value=v, timestamp=at, tags=tags) for v in values])


def rollups(resolution):
    rows = MetricRollup.objects.filter(resolution=resolution).order_by("series__tags__route", "start")
    return [(r.series.tags.get("route"), r.start, r.count, r.sum, r.min, r.max, r.histogram) for r in rows]


@pytest.fixture
def clock():
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False) as traveller:
        yield traveller


def test_minute_and_hour_rollups_hold_count_sum_min_max_and_histogram(project, clock):
    ingest(project, [10, 20, 30], T0 + timedelta(seconds=5), route="/a")
    ingest(project, [40], T0 + timedelta(minutes=1, seconds=59), route="/a")
    ingest(project, [100, 300], T0 + timedelta(minutes=2), route="/b")

    assert rollups_build() == 3

    minutes = MetricRollup.objects.filter(resolution=60).order_by("series__tags__route", "start")
    assert [(m.series.tags["route"], m.start, m.count, m.sum, m.min, m.max) for m in minutes] == [
        ("/a", T0, 3, 60.0, 10.0, 30.0),
        ("/a", T0 + timedelta(minutes=1), 1, 40.0, 40.0, 40.0),
        ("/b", T0 + timedelta(minutes=2), 2, 400.0, 100.0, 300.0),
    ]
    hours = MetricRollup.objects.filter(resolution=3600).order_by("series__tags__route")
    assert [(h.series.tags["route"], h.start, h.count, h.sum, h.min, h.max) for h in hours] == [
        ("/a", T0, 4, 100.0, 10.0, 40.0),
        ("/b", T0, 2, 400.0, 100.0, 300.0),
    ]
    histogram = Histogram.decode(hours[0].histogram, total=100, minimum=10, maximum=40)
    assert histogram.count == 4
    assert histogram.quantile(0.5) == pytest.approx(25, rel=0.01)  # between 20 and 30, as percentile_cont
    assert RollupBacklog.objects.count() == 0


def test_building_twice_gives_the_same_rows(project, clock):
    ingest(project, [1, 2, 3], T0, route="/a")
    rollups_build()
    first = (rollups(60), rollups(3600))

    RollupBacklog.objects.create(minute=T0, marked_at=T0)  # as if marked again with nothing new
    rollups_build()

    assert (rollups(60), rollups(3600)) == first
    assert MetricRollup.objects.count() == 2


def test_nothing_marked_means_nothing_to_do(project, clock):
    assert rollups_build() == 0
    ingest(project, [1], T0)
    assert rollups_build() == 1
    assert rollups_build() == 0


def test_a_late_point_is_folded_into_its_minute_and_hour(project, clock):
    ingest(project, [10, 20], T0 + timedelta(minutes=1), route="/a")
    rollups_build()

    clock.move_to(T0 + timedelta(hours=3))  # the point arrives three hours late
    ingest(project, [70], T0 + timedelta(minutes=1, seconds=30), route="/a")
    ingest(project, [5], T0 + timedelta(hours=3), route="/a")
    assert rollups_build() == 2

    minute = MetricRollup.objects.get(resolution=60, start=T0 + timedelta(minutes=1))
    assert (minute.count, minute.sum, minute.min, minute.max) == (3, 100.0, 10.0, 70.0)
    hour = MetricRollup.objects.get(resolution=3600, start=T0)
    assert (hour.count, hour.sum, hour.max) == (3, 100.0, 70.0)
    assert MetricRollup.objects.filter(resolution=3600).count() == 2


def test_a_point_landing_while_the_build_runs_is_kept_for_the_next_tick(project, clock):
    """The build clears a minute's mark only if it is still the one it read."""
    ingest(project, [1], T0)
    real = telemetry_rollups._minutes_from_points

    def read_then_a_request_lands(minutes, *rest):
        histograms = real(minutes, *rest)
        clock.shift(1)
        ingest(project, [2], T0 + timedelta(seconds=10))
        return histograms

    with patch.object(telemetry_rollups, "_minutes_from_points", read_then_a_request_lands):
        rollups_build()
    assert MetricRollup.objects.get(resolution=60).count == 1
    assert RollupBacklog.objects.filter(minute=T0).exists()

    rollups_build()
    assert MetricRollup.objects.get(resolution=60).count == 2
    assert not RollupBacklog.objects.exists()


def test_the_beat_task_builds_and_prepares_partitions(project, clock):
    ingest(project, [1, 2], T0)
    assert build_rollups.apply().get() == 1
    assert MetricRollup.objects.filter(resolution=60).get().count == 2


def test_the_stored_histogram_is_the_one_built_from_the_values(project, clock):
    """On PostgreSQL the database sorts points into buckets; it must agree with Python."""
    values = [-250.0, -0.5, 0.0, 1e-12, 0.07, 1.0, 3.3, 42.0, 42.5, 999.9, 1800.0, 2500.0, 123456.0]
    ingest(project, values, T0 + timedelta(seconds=20))
    rollups_build()

    stored = MetricRollup.objects.values("sum", "min", "max", "histogram").get(resolution=60)
    assert Histogram.from_row(stored) == Histogram.of(values)
