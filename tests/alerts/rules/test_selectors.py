"""query_batch(), the evaluator's read, agrees with query() for every aggregation, and groups."""

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.telemetry.selectors.metrics import AGGREGATIONS, MetricRequest, QueryError, query, query_batch
from tests.alerts.rules.factories import metric_series, put_minute

NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def history(project):
    for host, pool, base in (("a", "web", 10.0), ("b", "web", 50.0), ("c", "db", 90.0)):
        series = metric_series(project, "cpu", {"host": host, "pool": pool})
        for minute in range(30):
            put_minute(series, NOW.replace(second=0) - timedelta(minutes=minute), base + minute, base + 2 * minute)


@pytest.mark.parametrize("agg", AGGREGATIONS)
@pytest.mark.parametrize("minutes", [1, 10, 60])
def test_an_ungrouped_request_answers_what_query_does(project, history, agg, minutes):
    window = timedelta(minutes=minutes)
    expected = query(project, "cpu", {"pool": "web"}, agg, window, end=NOW).buckets[0].value
    [[answer]] = query_batch(project, [MetricRequest("cpu", {"pool": "web"}, agg, window)], end=NOW)
    assert answer.labels == {} and answer.series == 2
    assert answer.value == pytest.approx(expected)


def test_grouped_by_a_tag_and_per_series(project, history):
    window = timedelta(minutes=5)
    by_pool, per_series, missing, bad = query_batch(
        project,
        [
            MetricRequest("cpu", {}, "max", window, group_by="pool", grouped=True),
            MetricRequest("cpu", {"pool": "web"}, "avg", window, grouped=True),
            MetricRequest("nope", {}, "avg", window),
            MetricRequest("cpu", {}, "median", window),
        ],
        end=NOW,
    )
    assert [(g.labels, g.series, g.value) for g in by_pool] == [({"pool": "db"}, 1, 98.0), ({"pool": "web"}, 2, 58.0)]
    assert [g.labels["host"] for g in per_series] == ["a", "b"]
    for group in per_series:
        assert group.value == pytest.approx(
            query(project, "cpu", group.labels, "avg", window, end=NOW).buckets[0].value
        )
    assert missing == []
    assert isinstance(bad, QueryError) and str(bad).startswith("agg:")
