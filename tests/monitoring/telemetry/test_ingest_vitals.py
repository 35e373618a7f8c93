import json

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import IngestRejection, MetricPoint, MetricSeries

NOW = "2026-11-22T12:00:30+00:00"


def lcp(**overrides):
    return {
        "name": "LCP",
        "value": 1830.5,
        "rating": "good",
        "delta": 1830.5,
        "id": "v4-1700-1",
        "navigationType": "navigate",
        "url": "https://shop.example/cart?x=1",
        "route": "/cart",
        "device": "mobile",
        "connection": "4g",
        **overrides,
    }


@time_machine.travel(NOW, tick=False)
def test_a_beacon_body_in_text_plain_is_stored(send, project):
    response = send("/api/v1/vitals", lcp(), Origin="https://shop.example")

    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1}
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    point = MetricPoint.objects.select_related("series").get()
    assert point.value == 1830.5
    assert point.timestamp == timezone.now()
    assert point.series.project == project
    assert point.series.name == "vitals.LCP"
    assert point.series.unit == "ms"
    assert point.series.tags == {"route": "/cart", "device": "mobile", "connection": "4g"}


@time_machine.travel(NOW, tick=False)
def test_a_batch_of_vitals_lands_in_one_series_per_name_and_tags(send):
    batch = [lcp(), lcp(value=2400), {"name": "CLS", "value": 0.02, "route": "/cart"}, lcp(route="/")]

    response = send("/api/v1/vitals", batch)

    assert response.json() == {"stored": 4}
    assert MetricPoint.objects.count() == 4
    assert sorted(MetricSeries.objects.values_list("name", "tags__route")) == [
        ("vitals.CLS", "/cart"),
        ("vitals.LCP", "/"),
        ("vitals.LCP", "/cart"),
    ]


def test_the_route_defaults_to_the_page_path(send):
    send("/api/v1/vitals", lcp(route=None, url="https://shop.example/p/42?utm=x"))
    assert MetricSeries.objects.get().tags["route"] == "/p/42"


def test_json_content_type_and_the_key_in_a_header_work_too(client, ingest_key):
    response = client.post(
        "/api/v1/vitals",
        data=json.dumps({"vitals": [lcp()]}),
        content_type="application/json",
        headers={"X-Lookout-Key": ingest_key},
    )
    assert response.status_code == 200
    assert MetricPoint.objects.count() == 1


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"name": "LCPX"}, "name", "unknown vital"),
        ({"value": "fast"}, "value", "expected a number"),
        ({"value": True}, "value", "expected a number"),
        ({"value": -3}, "value", ">= 0"),
        ({"value": [1]}, "value", "expected a number"),
        ({"rating": "meh"}, "rating", "expected one of"),
        ({"device": "fridge"}, "device", "expected one of"),
        ({"timestamp": "2026-11-20T12:00:00Z"}, "timestamp", "in the past"),
        ({"timestamp": "2026-11-22T13:00:00Z"}, "timestamp", "in the future"),
        ({"timestamp": "yesterday"}, "timestamp", "ISO 8601"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_a_bad_item_is_named_by_index_and_field_and_nothing_is_stored(send, project, item, field, message):
    response = send("/api/v1/vitals", [lcp(), lcp(**item)])

    assert response.status_code == 400
    errors = response.json()["fields"]
    assert list(errors) == [f"vitals[1].{field}"]
    assert message in errors[f"vitals[1].{field}"][0]
    assert MetricPoint.objects.count() == 0
    assert IngestRejection.objects.get(project=project).reason == "invalid"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_malformed_json(send, constant):
    response = send("/api/v1/vitals", f'{{"name": "LCP", "value": {constant}}}')

    assert response.status_code == 400
    assert "malformed JSON" in response.json()["fields"]["body"][0]
    assert MetricPoint.objects.count() == 0


def test_a_number_too_big_for_a_float_is_not_finite(send):
    response = send("/api/v1/vitals", '{"name": "LCP", "value": 1e999}')
    assert response.status_code == 400
    assert response.json()["fields"] == {"value": ["expected a finite number"]}


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2", b"\xff\xfe"])
def test_malformed_json_is_400_naming_the_body(send, body):
    response = send("/api/v1/vitals", body)
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


def test_a_single_object_names_the_field_without_an_index(send):
    response = send("/api/v1/vitals", lcp(name="FOO"))
    assert list(response.json()["fields"]) == ["name"]


def test_an_item_that_is_not_an_object_is_named(send):
    response = send("/api/v1/vitals", [lcp(), 7])
    assert list(response.json()["fields"]) == ["vitals[1]"]
