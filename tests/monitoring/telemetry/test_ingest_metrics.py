from datetime import UTC, datetime

import pytest
import time_machine

from monitoring.models import MetricPoint, MetricSeries

NOW = datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC)


def point(**overrides):
    return {"name": "api.response_time", "value": 182.0, "unit": "ms", "tags": {"endpoint": "/orders"}, **overrides}


@time_machine.travel(NOW, tick=False)
def test_a_batch_of_counters_gauges_and_distributions_is_stored(send):
    batch = {
        "points": [
            point(),
            point(value=95, timestamp=NOW.timestamp() - 60),
            {"name": "signups", "value": 1, "type": "counter", "tags": {"plan": "pro", "trial": True}},
            {
                "name": "process.memory",
                "value": 5.1e8,
                "unit": "bytes",
                "type": "gauge",
                "tags": {"host": "web-1"},
                "timestamp": "2026-11-22T11:59:00Z",
            },
        ]
    }

    response = send("/api/v1/metrics", batch, content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 4}
    signups = MetricSeries.objects.get(name="signups")
    assert (signups.kind, signups.tags) == ("counter", {"plan": "pro", "trial": "true"})
    assert MetricSeries.objects.get(name="process.memory").kind == "gauge"
    times = sorted(MetricPoint.objects.filter(series__name="api.response_time").values_list("timestamp", "value"))
    assert times == [(datetime(2026, 11, 22, 11, 59, 30, tzinfo=UTC), 95.0), (NOW, 182.0)]


def test_tag_order_does_not_make_a_new_series(send):
    send("/api/v1/metrics", [point(tags={"a": "1", "b": "2"}), point(tags={"b": "2", "a": "1"})])
    assert MetricSeries.objects.count() == 1
    assert MetricPoint.objects.count() == 2


@time_machine.travel(NOW, tick=False)
def test_milliseconds_since_the_epoch_are_understood(send):
    send("/api/v1/metrics", [point(timestamp=NOW.timestamp() * 1000)])
    assert MetricPoint.objects.get().timestamp == NOW


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "has space"}, "name"),
        ({"value": None}, "value"),
        ({"value": "12"}, "value"),
        ({"type": "histogram"}, "type"),
        ({"tags": ["a"]}, "tags"),
        ({"tags": {"bad key!": "x"}}, "tags.bad key!"),
        ({"tags": {"k": {"nested": 1}}}, "tags.k"),
        ({"tags": {"k": "x" * 201}}, "tags.k"),
        ({"unit": 5}, "unit"),
        ({"timestamp": 1e30}, "timestamp"),
        ({"timestamp": "2026-02-30T00:00:00Z"}, "timestamp"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_bad_points_are_named_and_nothing_of_the_batch_is_stored(send, item, field):
    response = send("/api/v1/metrics", {"points": [point(), point(), point(**item)]})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [f"points[2].{field}"]
    assert MetricPoint.objects.count() == 0
    assert MetricSeries.objects.count() == 0


def test_every_bad_item_is_listed(send):
    response = send("/api/v1/metrics", [point(value="x"), point(), point(name="a b")])
    assert sorted(response.json()["fields"]) == ["points[0].value", "points[2].name"]


def test_a_point_of_another_kind_than_its_series_is_refused(send):
    send("/api/v1/metrics", [point(type="counter")])

    response = send("/api/v1/metrics", [point(), point(type="gauge")])

    assert response.status_code == 400
    assert "is a counter, not a distribution" in response.json()["fields"]["points[0].type"][0]
    assert MetricPoint.objects.count() == 1


def test_an_empty_batch_is_refused(send):
    response = send("/api/v1/metrics", {"points": []})
    assert response.status_code == 400
    assert "points" in response.json()["fields"]


def test_a_batch_over_the_item_limit_is_refused(send, settings):
    settings.TELEMETRY_MAX_BATCH = 10
    response = send("/api/v1/metrics", [point()] * 11)
    assert response.status_code == 400
    assert "11 items is over the limit of 10" in response.json()["fields"]["points"][0]
    assert MetricPoint.objects.count() == 0


def test_without_a_key_it_is_401(client):
    response = client.post("/api/v1/metrics", data="[]", content_type="text/plain")
    assert response.status_code == 401
    assert "key" in response.json()["error"]


def test_equal_looking_tag_values_of_different_types_stay_apart(send):
    send("/api/v1/metrics", [point(tags={"a": True}), point(tags={"a": 1}), point(tags={"a": 1.0})])
    assert sorted(series.tags["a"] for series in MetricSeries.objects.all()) == ["1", "1.0", "true"]
