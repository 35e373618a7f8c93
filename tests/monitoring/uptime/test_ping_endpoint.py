"""The Healthchecks-compatible ping URLs, as curl in a crontab would call them."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.heartbeats.views import PING_BODY_LIMIT
from monitoring.models import Flip, HeartbeatPing, Status, Target
from tests.monitoring.uptime.factories import HeartbeatFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heartbeat():
    return HeartbeatFactory(period_seconds=3600, grace_seconds=600)


def url(heartbeat, suffix=""):
    return f"/ping/{heartbeat.ping_key}{suffix}"


def test_a_plain_get_marks_the_heartbeat_up(client, heartbeat):
    response = client.get(url(heartbeat), HTTP_USER_AGENT="curl/8.5", REMOTE_ADDR="192.0.2.7")
    assert (response.status_code, response.content) == (200, b"OK\n")
    ping = HeartbeatPing.objects.get()
    assert (ping.kind, ping.method, ping.user_agent, ping.remote_addr) == (
        HeartbeatPing.Kind.SUCCESS, "GET", "curl/8.5", "192.0.2.7")
    heartbeat.refresh_from_db()
    heartbeat.target.refresh_from_db()
    assert heartbeat.target.status == Status.UP
    assert heartbeat.expected_at == ping.received_at + dt.timedelta(hours=1)


@pytest.mark.parametrize(("suffix", "kind", "exit_code"), [
    ("/start", HeartbeatPing.Kind.START, None),
    ("/fail", HeartbeatPing.Kind.FAIL, None),
    ("/log", HeartbeatPing.Kind.LOG, None),
    ("/0", HeartbeatPing.Kind.SUCCESS, 0),
    ("/3", HeartbeatPing.Kind.FAIL, 3),
])
def test_every_signal_by_get_and_post(client, heartbeat, suffix, kind, exit_code):
    assert client.get(url(heartbeat, suffix)).status_code == 200
    assert client.post(url(heartbeat, suffix), data=b"output", content_type="text/plain").status_code == 200
    pings = list(HeartbeatPing.objects.order_by("id").values_list("kind", "exit_code", "method", "body"))
    assert pings == [(kind, exit_code, "GET", ""), (kind, exit_code, "POST", "output")]


def test_a_failure_or_non_zero_exit_is_down_at_once_with_the_reason(client, heartbeat):
    client.get(url(heartbeat))
    client.post(url(heartbeat, "/2"), data=b"disk full", content_type="text/plain")
    flip = Flip.objects.get(new_status=Status.DOWN)
    assert flip.reason == "the job exited with code 2"
    client.get(url(heartbeat, "/0"))
    client.get(url(heartbeat, "/fail"))
    assert Flip.objects.latest("at").reason == "the job signalled a failure"


def test_a_log_ping_changes_nothing(client, heartbeat):
    client.post(url(heartbeat, "/log"), data=b"step 3 of 5", content_type="text/plain")
    heartbeat.target.refresh_from_db()
    assert heartbeat.target.status == Status.UNKNOWN
    assert HeartbeatPing.objects.get().body == "step 3 of 5"


def test_an_unknown_key_is_404_and_stores_nothing(client, heartbeat):
    for suffix in ("", "/start", "/fail", "/log", "/1"):
        assert client.post(f"/ping/{uuid.uuid4()}{suffix}", data=b"x", content_type="text/plain").status_code == 404
    assert client.get("/ping/not-a-uuid").status_code == 404
    assert client.get(url(heartbeat, "/restart")).status_code == 404
    assert HeartbeatPing.objects.count() == 0 and Flip.objects.count() == 0


def test_a_target_no_longer_a_heartbeat_takes_no_pings(client, heartbeat):
    Target.objects.filter(pk=heartbeat.pk).update(kind="http", url="https://shop.example/")
    assert client.get(url(heartbeat)).status_code == 404
    assert HeartbeatPing.objects.count() == 0


def test_a_body_over_the_limit_is_truncated_and_flagged_not_refused(client, heartbeat):
    big = b"x" * (PING_BODY_LIMIT + 5000)
    assert client.post(url(heartbeat), data=big, content_type="text/plain").status_code == 200
    ping = HeartbeatPing.objects.get()
    assert (len(ping.body), ping.body_truncated) == (PING_BODY_LIMIT, True)
    exact = b"y" * PING_BODY_LIMIT
    client.post(url(heartbeat), data=exact, content_type="text/plain")
    assert HeartbeatPing.objects.latest("id").body_truncated is False


def test_a_body_larger_than_djangos_upload_limit_is_still_accepted(client, heartbeat, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert client.post(url(heartbeat), data=b"z" * 50_000, content_type="text/plain").status_code == 200
    assert HeartbeatPing.objects.get().body_truncated is True


def test_binary_bodies_are_kept_as_text(client, heartbeat):
    client.post(url(heartbeat), data=b"ok \xff\x00 done", content_type="application/octet-stream")
    assert HeartbeatPing.objects.get().body == "ok \ufffd\ufffd done"


@pytest.mark.parametrize(("path", "field"), [("/256", "exit_code"), ("?rid=" + "r" * 65, "rid"),
                                             ("?rid=a%20b", "rid")])
def test_bad_input_is_400_naming_the_field(client, heartbeat, path, field):
    response = client.get(url(heartbeat, path))
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert HeartbeatPing.objects.count() == 0


def test_other_methods_are_refused(client, heartbeat):
    assert client.put(url(heartbeat)).status_code == 405
    assert HeartbeatPing.objects.count() == 0


def test_the_usual_ping_costs_three_statements(client, heartbeat):
    client.get(url(heartbeat))  # first ping flips unknown → up; later ones change no status
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(heartbeat)).status_code == 200
    statements = [q["sql"].split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["SELECT", "INSERT", "UPDATE"]


def test_curl_data_is_kept_whatever_its_content_type(client, heartbeat):
    """`curl -d @log.txt` sends application/x-www-form-urlencoded; the body is still the log."""
    client.post(url(heartbeat), data="line 1\nline 2 & more=yes",
                content_type="application/x-www-form-urlencoded")
    client.post(url(heartbeat, "/log"), data='{"step": 3}', content_type="application/json")
    assert list(HeartbeatPing.objects.order_by("id").values_list("body", flat=True)) == [
        "line 1\nline 2 & more=yes", '{"step": 3}']


def test_head_counts_as_a_ping(client, heartbeat):
    assert client.head(url(heartbeat)).status_code == 200
    assert HeartbeatPing.objects.get().method == "HEAD"
