"""Size, rate and cardinality limits on ingest, and the per-project count of refusals."""

import json

import time_machine
from django.utils import timezone

from monitoring.models import IngestRejection, MetricPoint, MetricSeries, MetricTagValue
from tests.factories import ProjectFactory, make_ingest_key


def points(n, **tags):
    return [{"name": "m", "value": i, "tags": tags} for i in range(n)]


def rejections(project):
    return dict(IngestRejection.objects.filter(project=project).values_list("reason", "count"))


def test_a_body_over_the_size_limit_is_413(send, settings, project):
    settings.TELEMETRY_MAX_BODY_BYTES = 200
    body = json.dumps(points(20))

    response = send("/api/v1/metrics", body)

    assert response.status_code == 413
    assert f"{len(body)} bytes is over the limit of 200" in response.json()["error"]
    assert MetricPoint.objects.count() == 0
    assert rejections(project) == {"too_large": 1}


def test_a_key_over_its_rate_gets_429_with_retry_after(send, settings, project):
    settings.TELEMETRY_RATE_PER_SECOND = 0.5
    settings.TELEMETRY_RATE_BURST = 3
    with time_machine.travel("2026-11-22T12:00:00Z", tick=False) as clock:
        assert [send("/api/v1/metrics", points(1)).status_code for _ in range(4)] == [200, 200, 200, 429]
        throttled = send("/api/v1/metrics", points(1))
        assert throttled.status_code == 429
        assert throttled["Retry-After"] == "2"  # one token at 0.5/s

        clock.shift(2)
        assert send("/api/v1/metrics", points(1)).status_code == 200

    assert MetricPoint.objects.count() == 4
    assert rejections(project) == {"throttled": 2}


def test_each_key_has_its_own_bucket(send, settings, project):
    settings.TELEMETRY_RATE_PER_SECOND = 0.001
    settings.TELEMETRY_RATE_BURST = 1
    other = make_ingest_key(project).key.public_key
    with time_machine.travel("2026-11-22T12:00:00Z", tick=False):
        assert send("/api/v1/metrics", points(1)).status_code == 200
        assert send("/api/v1/metrics", points(1)).status_code == 429
        assert send("/api/v1/metrics", points(1), key=other).status_code == 200


def test_new_series_past_the_project_limit_are_refused_whole(send, project):
    project.telemetry_max_series = 3
    project.save()
    send("/api/v1/metrics", [{"name": "a", "value": 1}, {"name": "b", "value": 1}])

    response = send(
        "/api/v1/metrics", [{"name": "a", "value": 2}, {"name": "c", "value": 1}, {"name": "d", "value": 1}]
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "points[1].tags": ["this batch needs 2 new series; the project has 2 of its limit of 3"]
    }
    assert MetricSeries.objects.count() == 2
    assert MetricPoint.objects.count() == 2
    assert rejections(project) == {"cardinality": 1}
    # known series still take points
    assert send("/api/v1/metrics", [{"name": "a", "value": 3}]).status_code == 200


def test_a_tag_past_its_value_limit_is_refused_naming_the_tag(send, settings, project):
    settings.TELEMETRY_MAX_TAG_VALUES = 2
    assert (
        send("/api/v1/metrics", [{"name": "m", "value": 1, "tags": {"user": u}} for u in ("u1", "u2")]).status_code
        == 200
    )

    response = send(
        "/api/v1/metrics",
        [{"name": "m", "value": 1, "tags": {"user": "u1"}}, {"name": "m", "value": 1, "tags": {"user": "u3"}}],
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "points[1].tags.user": ["tag 'user' would take 3 values; the project's limit is 2"]
    }
    assert sorted(MetricTagValue.objects.values_list("value", flat=True)) == ["u1", "u2"]


def test_limits_are_per_project(send, client, settings):
    settings.TELEMETRY_MAX_SERIES = 1
    send("/api/v1/metrics", [{"name": "a", "value": 1}])
    other_key = make_ingest_key(ProjectFactory()).key.public_key

    response = send("/api/v1/metrics", [{"name": "b", "value": 1}], key=other_key)

    assert response.status_code == 200


def test_refusals_are_counted_per_project_and_day(send, project):
    with time_machine.travel("2026-11-22T12:00:00Z", tick=False):
        send("/api/v1/metrics", "nonsense")
        send("/api/v1/metrics", [{"name": "m"}])
        send("/api/v1/vitals", {"name": "XYZ", "value": 1})

    row = IngestRejection.objects.get(project=project)
    assert (row.reason, row.count, row.day) == ("invalid", 3, timezone.datetime(2026, 11, 22).date())
