"""No poison pills: a value no aggregate can hold is refused at ingest, and a rollup input
that got into the database anyway stays with its series instead of stopping every project."""

import logging
import math
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from monitoring.models import MetricPoint, MetricRollup, MetricSeries, RollupBacklog
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.payloads import MAX_ABS_VALUE, PointIn
from monitoring.telemetry.selectors.metrics import query
from monitoring.telemetry.services import rollups as telemetry_rollups
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import SKIPS, rollups_build
from tests.factories import ProjectFactory

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False) as traveller:
        yield traveller


def skips(reason):
    return SKIPS.labels(reason=reason)._value.get()


def test_the_metrics_attack_is_refused_naming_each_value(send):
    attack = {
        "points": [
            {"name": "c1", "value": 1.7e308, "type": "counter"},
            {"name": "c1", "value": 1.7e308, "type": "counter"},
        ]
    }
    response = send("/api/v1/metrics", attack)

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"points[0].value", "points[1].value"}
    assert "1e+20" in fields["points[0].value"][0]
    assert not MetricPoint.objects.exists()


def test_the_vitals_attack_is_refused_naming_each_value(send):
    response = send("/api/v1/vitals", [{"name": "LCP", "value": 1e308}, {"name": "LCP", "value": 1e308}])

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"vitals[0].value", "vitals[1].value"}
    assert not MetricPoint.objects.exists()


@pytest.mark.parametrize(
    "path, item",
    [
        ("/api/v1/events", {"action": "export", "duration": 2e20}),
        ("/api/v1/vitals", {"name": "INP", "value": 100, "delta": -1e21}),
        ("/api/v1/metrics", {"name": "g", "value": -1.5e20, "type": "gauge"}),
    ],
)
def test_every_number_is_bounded(send, path, item):
    response = send(path, item)
    assert response.status_code == 400
    (field,) = response.json()["fields"]
    assert field in {"duration", "delta", "value"}


def test_values_at_the_bound_are_stored_and_their_sums_stay_finite(send, clock):
    points = [{"name": "big", "value": MAX_ABS_VALUE, "type": "counter"} for _ in range(1000)]
    assert send("/api/v1/metrics", {"points": points}).status_code == 200
    assert send("/api/v1/metrics", {"name": "low", "value": -MAX_ABS_VALUE}).status_code == 200

    rollups_build()

    (hour,) = MetricRollup.objects.filter(resolution=3600, series__name="big")
    assert hour.sum == pytest.approx(1000 * MAX_ABS_VALUE)
    # The bound's promise: every point a key could send in a day at the most generous
    # rate, in every series a project may have, over the hour rollups' whole retention.
    most_points = settings.TELEMETRY_RATE_BURST * settings.TELEMETRY_MAX_BATCH * 86_400 * 1_000
    total = MAX_ABS_VALUE * most_points * settings.TELEMETRY_MAX_SERIES * settings.TELEMETRY_HOUR_RETENTION_DAYS
    assert math.isfinite(total) and math.isfinite(total * total)
    assert math.isfinite(Histogram.of([MAX_ABS_VALUE, MAX_ABS_VALUE / 3, 1.0]).quantile(0.99))


@pytest.fixture
def two_projects(db, clock):
    """Project A holds poison written straight to the database (as rows stored before the
    bound existed would); project B holds honest points in the same minutes."""
    poisoned, honest = ProjectFactory(), ProjectFactory()
    telemetry_ingest(project=poisoned, points=[PointIn(name="c1", value=1.0, timestamp=T0, kind="counter")])
    telemetry_ingest(project=honest, points=[PointIn(name="latency", value=v, timestamp=T0) for v in (10, 20, 30)])
    series = MetricSeries.objects.get(project=poisoned)
    MetricPoint.objects.bulk_create(
        [MetricPoint(series=series, timestamp=T0 + timedelta(seconds=s), value=1.7e308) for s in (1, 2)]
    )
    return poisoned, honest, series


def test_poisoned_points_stay_with_their_series(two_projects, caplog):
    poisoned, honest, series = two_projects
    before = skips("value_out_of_range")

    with caplog.at_level(logging.ERROR, logger="monitoring.telemetry.services.rollups"):
        assert rollups_build() == 1

    honest_minute = MetricRollup.objects.get(resolution=60, series__project=honest)
    assert (honest_minute.count, honest_minute.sum) == (3, 60.0)
    assert query(honest, "latency", agg="avg", end=T0 + timedelta(minutes=1)).buckets[0].value == 20
    # The poisoned series keeps its honest point; the two poisoned ones are left out, counted and named.
    poisoned_minute = MetricRollup.objects.get(resolution=60, series=series)
    assert (poisoned_minute.count, poisoned_minute.sum) == (1, 1.0)
    assert skips("value_out_of_range") == before + 1
    (line,) = [r.getMessage() for r in caplog.records if "rollups left out" in r.getMessage()]
    assert "2 inputs of 1 series (value_out_of_range)" in line
    assert f"series {series.pk} 'c1' of project {poisoned.pk}" in line
    assert not RollupBacklog.objects.exists()


def test_poisoned_minute_rollups_stay_with_their_series(two_projects):
    """Minute rollups outside the marked minutes still feed their hour: ones that sum past a
    float, or whose histogram cannot be read, are left out of that hour alone."""
    poisoned, honest, series = two_projects
    MetricPoint.objects.filter(value=1.7e308).delete()
    histogram = Histogram.of([1.7e308]).encode()
    MetricRollup.objects.bulk_create(
        [
            MetricRollup(
                series=series,
                resolution=60,
                start=T0 + timedelta(minutes=m),
                count=1,
                sum=1.7e308,
                min=1.7e308,
                max=1.7e308,
                histogram=histogram,
            )
            for m in (1, 2)
        ]
    )
    other = MetricSeries.objects.create(project=poisoned, name="g", tags={}, tags_hash="0" * 64)
    MetricRollup.objects.create(
        series=other, resolution=60, start=T0 + timedelta(minutes=3), count=1, sum=1, min=1, max=1, histogram=b"junk"
    )
    overflow, corrupt = skips("overflow"), skips("corrupt_rollup")

    rollups_build()

    honest_hour = MetricRollup.objects.get(resolution=3600, series__project=honest)
    assert (honest_hour.count, honest_hour.sum) == (3, 60.0)
    assert not MetricRollup.objects.filter(resolution=3600, series__in=[series, other]).exists()
    assert (skips("overflow"), skips("corrupt_rollup")) == (overflow + 1, corrupt + 1)
    assert query(honest, "latency", agg="p50", window=timedelta(days=1), end=T0 + timedelta(hours=1)).buckets[
        0
    ].value == pytest.approx(20, rel=0.01)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement build is PostgreSQL's")
def test_a_statement_failing_on_one_series_is_retried_series_by_series(two_projects, monkeypatch):
    poisoned, honest, series = two_projects
    MetricPoint.objects.filter(value=1.7e308).delete()
    # Any failure the database raises for one series' rows: here a division by zero.
    failing = telemetry_rollups._BUCKETED.replace(
        "count(*)::int AS n", f"(count(*) + 0 * (1 / (series_id - {series.pk})))::int AS n"
    )
    monkeypatch.setattr(telemetry_rollups, "_BUCKETED", failing)
    before = skips("database_error")

    assert rollups_build() == 1

    assert MetricRollup.objects.get(resolution=60, series__project=honest).count == 3
    assert not MetricRollup.objects.filter(series=series).exists()
    assert skips("database_error") == before + 1
