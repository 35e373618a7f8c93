"""GET /api/v1/metrics/query: the selector over REST, behind an API token."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.factories import make_api_token

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def api(client, db):
    secret = make_api_token().secret

    def get(**params):
        return client.get("/api/v1/metrics/query", params, headers={"Authorization": f"Bearer {secret}"})

    return get


@pytest.fixture
def data(project):
    with time_machine.travel(NOW, tick=False):
        telemetry_ingest(
            project=project,
            points=[
                PointIn(name="vitals.LCP", value=v, timestamp=NOW - timedelta(minutes=m), tags={"route": r})
                for m, (v, r) in enumerate([(1000, "/"), (2000, "/"), (3000, "/cart"), (4000, "/cart")], start=1)
            ],
        )
        rollups_build()


@time_machine.travel(NOW, tick=False)
def test_a_token_holder_gets_buckets(api, project, data):
    response = api(project=project.slug, name="vitals.LCP", agg="max", window="2h", step="1h", tag="route:/cart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["resolution"], body["series"], body["tags"]) == (3600, 1, {"route": "/cart"})
    assert body["buckets"] == [
        {"start": "2026-11-22T10:00:00Z", "value": None},
        {"start": "2026-11-22T11:00:00Z", "value": 4000.0},
    ]


@time_machine.travel(NOW, tick=False)
def test_the_project_may_be_given_by_id_and_the_step_left_out(api, project, data):
    body = api(project=str(project.pk), name="vitals.LCP", agg="count", window="15m").json()
    assert body["buckets"] == [{"start": "2026-11-22T11:45:00Z", "value": 4}]


def test_without_a_token_it_is_refused(client, project):
    assert client.get("/api/v1/metrics/query", {"project": project.slug, "name": "x"}).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agg": "median"}, "agg"),
        ({"window": "soon"}, "window"),
        ({"window": "0h"}, "window"),
        ({"step": "90s"}, "step"),
        ({"window": "1h", "step": "7m"}, "window"),
        ({"tag": "no-colon"}, "tag"),
        ({"project": "unknown"}, "project"),
        ({"project": "9" * 30}, "project"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_parameters_get_400_naming_the_field(api, project, params, field):
    response = api(**{"project": project.slug, "name": "vitals.LCP", **params})
    assert response.status_code == 400
    assert field in response.json()["fields"]
