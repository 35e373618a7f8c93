"""Every bad body gets a 4xx naming the field: never a 500, never a 503 that reads as an outage."""

import json

import pytest
from django.db import DataError

from monitoring.models import IngestRejection, MetricPoint
from monitoring.telemetry.api import ingest as ingest_api

ENDPOINTS = ["/api/v1/vitals", "/api/v1/metrics", "/api/v1/events"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_deep_nesting_is_a_400_naming_the_body(send, path):
    response = send(path, "[" * 100_000 + "]" * 100_000)

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["fields"]["body"][0]


def test_a_deeply_nested_name_is_a_400_naming_it(send):
    # Deep, yet well inside what the parser reaches from any call depth: the body parses,
    # and the refusal is about the field, not the body (900 levels failed as "body" when the
    # test ran on a deeper stack).
    nested = "[" * 200 + "]" * 200
    response = send("/api/v1/vitals", f'{{"name": {nested}, "value": 1, "rating": {nested}}}')

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name"}


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/events", '{"action": "a\\ud800"}', "action"),
        ("/api/v1/vitals", '{"name": "LCP", "value": 1, "route": "/a\\udfff"}', "route"),
        ("/api/v1/metrics", '{"name": "m", "value": 1, "tags": {"k": "v\\ud800"}}', "tags.k"),
        ("/api/v1/events", '{"action": "a", "metadata": {"plan": "\\ud800"}}', "metadata.plan"),
        ("/api/v1/metrics", '{"name": "m", "value": 1, "unit": "\\ud800"}', "unit"),
    ],
)
def test_a_lone_surrogate_is_a_400_naming_the_field(send, path, body, field):
    response = send(path, body)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert "lone surrogate" in response.json()["fields"][field][0]
    assert not MetricPoint.objects.exists()


def test_a_lone_surrogate_in_a_tag_name_is_named_escaped(send):
    response = send("/api/v1/metrics", '{"name": "m", "value": 1, "tags": {"k\\ud800": "v"}}')

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"tags.k\\ud800"}


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/events", '{"action": "a\\u0000b"}', "action"),
        ("/api/v1/vitals", '{"name": "LCP", "value": 1, "url": "https://x.example/\\u0000"}', "url"),
        ("/api/v1/metrics", '{"name": "m", "value": 1, "tags": {"k": "\\u0000"}}', "tags.k"),
    ],
)
def test_a_nul_byte_is_a_400_naming_the_field(send, path, body, field):
    response = send(path, body)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert "NUL" in response.json()["fields"][field][0]
    assert not MetricPoint.objects.exists()


def test_a_route_taken_from_a_long_url_is_a_400_naming_the_url(send):
    url = "https://shop.example/" + "a" * 300
    response = send("/api/v1/vitals", {"name": "LCP", "value": 1, "url": url})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"url"}
    assert send("/api/v1/vitals", {"name": "LCP", "value": 1, "url": url, "route": "/a"}).status_code == 200


def test_a_broken_url_is_a_400_naming_it(send):
    response = send("/api/v1/vitals", {"name": "LCP", "value": 1, "url": "http://[::1"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"url"}


def test_a_name_with_a_trailing_newline_is_refused(send):
    response = send("/api/v1/metrics", {"name": "m\n", "value": 1})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name"}


@pytest.mark.parametrize("content_type", ["image/png", "application/x-www-form-urlencoded", "text/html"])
def test_a_wrong_content_type_is_a_415_naming_it(send, project, content_type):
    response = send("/api/v1/metrics", {"name": "m", "value": 1}, content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"].startswith("Content-Type:")
    assert content_type in response.json()["error"]
    assert not MetricPoint.objects.exists()
    assert IngestRejection.objects.get(project=project).reason == IngestRejection.Reason.INVALID


@pytest.mark.parametrize("content_type", ["application/json", "text/plain;charset=UTF-8", "Application/JSON; x=1"])
def test_json_and_beacon_content_types_are_read(send, content_type):
    assert send("/api/v1/metrics", {"name": "m", "value": 1}, content_type=content_type).status_code == 200


def test_a_value_the_database_refuses_is_a_400_not_a_503(send, monkeypatch):
    """Whatever validation misses and the database refuses is the request's fault: a retry
    would fail the same way, so it must not be told to retry."""

    def refuse(**kwargs):
        raise DataError("value too long for type character varying(200)\nCONTEXT: COPY")

    monkeypatch.setattr(ingest_api, "telemetry_ingest", refuse)
    response = send("/api/v1/metrics", {"name": "m", "value": 1})

    assert response.status_code == 400
    assert "Retry-After" not in response
    (message,) = response.json()["fields"]["body"]
    assert message.endswith("value too long for type character varying(200)")


def test_a_refusal_answer_is_valid_json_whatever_was_sent(send):
    response = send("/api/v1/metrics", '{"name": "\\ud800", "value": 1}')
    assert response.status_code == 400
    json.loads(response.content.decode("utf-8"))
