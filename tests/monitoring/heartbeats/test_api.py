"""Heartbeats over the token API: their schedule and run state, and the pings a job sent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.heartbeats.services.pings import Ping, heartbeat_ping
from monitoring.models import HeartbeatPing
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from tests.alerts.api.conftest import client_for, queries_for
from tests.factories import ProjectFactory, UserFactory, make_api_token
from tests.monitoring.uptime.factories import HeartbeatFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return client_for(make_api_token(scope="read", role="viewer"))


def send(heartbeat, kind, *, at, **fields):
    defaults = {"method": "POST", "remote_addr": "127.0.0.1", "user_agent": "curl/8", "rid": "", "body": ""}
    assert heartbeat_ping(
        ping_key=heartbeat.ping_key, ping=Ping(kind=kind, at=at, **{"exit_code": None, **defaults, **fields})
    )


def test_a_heartbeat_shows_its_ping_url_schedule_and_last_ping(reader):
    heartbeat = HeartbeatFactory(target__name="nightly backup", period_seconds=3600)
    send(heartbeat, HeartbeatPing.Kind.SUCCESS, at=timezone.now())
    body = reader.get(f"/api/v1/heartbeats/{heartbeat.pk}").json()
    assert body["name"] == "nightly backup" and body["period_seconds"] == 3600
    assert body["ping_url"].endswith(f"/ping/{heartbeat.ping_key}")
    assert body["last_ping_at"] is not None
    assert [row["target"] for row in reader.get("/api/v1/heartbeats").json()["results"]] == [heartbeat.pk]
    assert reader.get("/api/v1/heartbeats/999999").status_code == 404


def test_pings_page_newest_first_with_kind_exit_code_and_body(reader):
    heartbeat = HeartbeatFactory()
    now = timezone.now()
    send(heartbeat, HeartbeatPing.Kind.START, at=now - timedelta(minutes=3), rid="run-1")
    send(heartbeat, HeartbeatPing.Kind.FAIL, at=now - timedelta(minutes=2), rid="run-1", exit_code=3, body="disk full")
    send(heartbeat, HeartbeatPing.Kind.SUCCESS, at=now - timedelta(minutes=1))
    first = reader.get(f"/api/v1/heartbeats/{heartbeat.pk}/pings", {"page_size": 2}).json()
    rest = reader.get(first["next"]).json()
    rows = first["results"] + rest["results"]
    assert [row["kind"] for row in rows] == ["success", "fail", "start"]
    assert (rows[1]["exit_code"], rows[1]["body"], rows[1]["rid"]) == (3, "disk full", "run-1")
    assert rows[1]["duration_ms"] is not None  # paired with its start


@pytest.mark.parametrize(("query", "field"), [({"cursor": "x"}, "cursor"), ({"page_size": "0"}, "page_size")])
def test_a_bad_pings_query_is_a_400_naming_it(reader, query, field):
    heartbeat = HeartbeatFactory()
    answer = reader.get(f"/api/v1/heartbeats/{heartbeat.pk}/pings", query)
    assert answer.status_code == 400 and field in answer.json()["fields"]


def test_list_and_pings_keep_their_query_count(reader):
    heartbeat = HeartbeatFactory()
    send(heartbeat, HeartbeatPing.Kind.SUCCESS, at=timezone.now())
    few = [queries_for(reader, "/api/v1/heartbeats"), queries_for(reader, f"/api/v1/heartbeats/{heartbeat.pk}/pings")]
    for n in range(5):
        HeartbeatFactory()
        send(heartbeat, HeartbeatPing.Kind.SUCCESS, at=timezone.now() + timedelta(seconds=n + 1))
    many = [queries_for(reader, "/api/v1/heartbeats"), queries_for(reader, f"/api/v1/heartbeats/{heartbeat.pk}/pings")]
    assert many == few


def test_a_project_limited_token_sees_only_its_projects_heartbeats():
    shop = ProjectFactory()
    mine, theirs = HeartbeatFactory(target__project=shop), HeartbeatFactory()
    user = UserFactory()
    role_assign(user=user, role="viewer")
    limited = client_for(api_token_create(user=user, projects=[shop]))
    assert [row["target"] for row in limited.get("/api/v1/heartbeats").json()["results"]] == [mine.pk]
    assert limited.get(f"/api/v1/heartbeats/{theirs.pk}/pings").status_code == 404
