"""query(): every aggregation over any window and tag filter, answered from rollups."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.selectors.metrics import QueryError, query
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def store(project, points):
    telemetry_ingest(project=project, points=points)
    while rollups_build():
        pass


def exact_quantile(values, q):
    """numpy's default (linear) quantile, PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (rank - below) * (ordered[above] - ordered[below])


@pytest.fixture
def latencies(project):
    """Three days of latencies on two routes, one point every 13 minutes per route."""
    rng = random.Random(4)
    raw = {"/a": [], "/b": []}
    points = []
    with time_machine.travel(NOW, tick=False):
        for route, scale in (("/a", 100), ("/b", 900)):
            moment = NOW - timedelta(days=3)
            while moment < NOW:
                value = rng.lognormvariate(0, 0.6) * scale
                raw[route].append((moment, value))
                points.append(PointIn(name="latency", value=value, timestamp=moment, tags={"route": route}))
                moment += timedelta(minutes=13)
        store(project, points)
    return raw


@time_machine.travel(NOW, tick=False)
def test_percentiles_over_days_are_within_one_percent(project, latencies):
    everything = [v for pairs in latencies.values() for _, v in pairs]
    for agg in ("p50", "p75", "p90", "p95", "p99"):
        result = query(project, "latency", agg=agg, window=timedelta(days=3), step=timedelta(days=3))

        assert result.resolution == 3600 and result.series == 2
        [bucket] = result.buckets
        assert bucket.start == NOW - timedelta(days=3)
        assert bucket.value == pytest.approx(exact_quantile(everything, int(agg[1:]) / 100), rel=0.01), agg


@time_machine.travel(NOW, tick=False)
def test_tags_filter_the_series(project, latencies):
    values = [v for _, v in latencies["/b"]]
    result = query(project, "latency", {"route": "/b"}, "p95", timedelta(days=3), timedelta(days=3))
    assert result.series == 1
    assert result.buckets[0].value == pytest.approx(exact_quantile(values, 0.95), rel=0.01)
    assert query(project, "latency", {"route": "/nope"}, "count", timedelta(days=1)).buckets[0].value == 0


SIMPLE = {
    "count": len,
    "sum": sum,
    "avg": lambda vs: sum(vs) / len(vs),
    "min": min,
    "max": max,
    "rate": lambda vs: len(vs) / 3600,
}


@time_machine.travel(NOW, tick=False)
def test_simple_aggregations_per_hour_step_match_the_raw_points(project, latencies):
    for agg, expected in SIMPLE.items():
        result = query(project, "latency", {"route": "/a"}, agg, timedelta(hours=6), timedelta(hours=1))

        assert [b.start for b in result.buckets] == [NOW - timedelta(hours=6 - i) for i in range(6)]
        for bucket in result.buckets:
            values = [v for t, v in latencies["/a"] if bucket.start <= t < bucket.start + timedelta(hours=1)]
            assert bucket.value == pytest.approx(expected(values)), agg


@time_machine.travel(NOW + timedelta(seconds=30), tick=False)
def test_minute_steps_read_minute_rollups_and_include_the_current_minute(project):
    store(project, [PointIn(name="m", value=v, timestamp=NOW + timedelta(seconds=v)) for v in (1, 2, 3)])
    store(project, [PointIn(name="m", value=10, timestamp=NOW - timedelta(minutes=2))])

    result = query(project, "m", agg="sum", window=timedelta(minutes=5), step=timedelta(minutes=1))

    assert result.resolution == 60
    assert [(b.start.minute, b.value) for b in result.buckets] == [(56, 0), (57, 0), (58, 10), (59, 0), (0, 6)]


@time_machine.travel(NOW, tick=False)
def test_rate_of_a_counter_is_its_sum_per_second(project):
    store(
        project,
        [PointIn(name="signups", value=3, kind="counter", timestamp=NOW - timedelta(minutes=m)) for m in range(1, 11)],
    )
    result = query(project, "signups", agg="rate", window=timedelta(minutes=10))
    assert result.buckets[0].value == pytest.approx(30 / 600)


@time_machine.travel(NOW, tick=False)
def test_an_empty_window_has_no_average_but_a_zero_count(project):
    assert query(project, "nothing", agg="avg").buckets[0].value is None
    assert query(project, "nothing", agg="count").buckets[0].value == 0


@time_machine.travel(NOW, tick=False)
def test_the_query_reads_rollups_only_in_two_statements(project, latencies):
    with CaptureQueriesContext(connection) as queries:
        query(project, "latency", agg="p99", window=timedelta(days=3), step=timedelta(hours=1))
    assert len(queries) == 2
    assert not any("monitoring_metricpoint" in q["sql"] for q in queries)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"agg": "median"}, "agg"),
        ({"step": timedelta(seconds=90)}, "step"),
        ({"window": timedelta(hours=1), "step": timedelta(minutes=7)}, "window"),
        ({"window": timedelta(days=60), "step": timedelta(minutes=30)}, "step"),
        ({"window": timedelta(days=365), "step": timedelta(minutes=1)}, "step"),
        ({"window": -timedelta(hours=1)}, "window"),
    ],
)
def test_unanswerable_queries_name_the_field(project, kwargs, field):
    with pytest.raises(QueryError, match=f"^{field}: "):
        query(project, "latency", **kwargs)
