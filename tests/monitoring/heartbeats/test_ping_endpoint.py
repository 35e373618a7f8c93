"""The Healthchecks-compatible ping URLs, as curl in a crontab would call them."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.heartbeats.services.pings import heartbeats_detect
from monitoring.models import Flip, Heartbeat, HeartbeatPing, Status, Target
from monitoring.uptime.models import FlipCause
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
        HeartbeatPing.Kind.SUCCESS,
        "GET",
        "curl/8.5",
        "192.0.2.7",
    )
    heartbeat.refresh_from_db()
    heartbeat.target.refresh_from_db()
    assert heartbeat.target.status == Status.UP
    assert heartbeat.expected_at == ping.received_at + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("suffix", "kind", "exit_code"),
    [
        ("/start", HeartbeatPing.Kind.START, None),
        ("/fail", HeartbeatPing.Kind.FAIL, None),
        ("/log", HeartbeatPing.Kind.LOG, None),
        ("/0", HeartbeatPing.Kind.SUCCESS, 0),
        ("/3", HeartbeatPing.Kind.FAIL, 3),
    ],
)
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
    assert flip.cause == FlipCause.EXIT_CODE
    client.get(url(heartbeat, "/0"))
    client.get(url(heartbeat, "/fail"))
    assert Flip.objects.latest("at").reason == "the job signalled a failure"
    assert Flip.objects.latest("at").cause == FlipCause.FAILURE_PING


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


def test_a_body_over_the_limit_is_truncated_and_flagged_not_refused(client, heartbeat, settings):
    settings.HEARTBEAT_PING_BODY_LIMIT = 2000
    big = b"x" * (2000 + 5000)
    assert client.post(url(heartbeat), data=big, content_type="text/plain").status_code == 200
    ping = HeartbeatPing.objects.get()
    assert (len(ping.body), ping.body_truncated) == (2000, True)
    exact = b"y" * 2000
    client.post(url(heartbeat), data=exact, content_type="text/plain")
    assert HeartbeatPing.objects.latest("id").body_truncated is False


def test_a_body_larger_than_djangos_upload_limit_is_still_accepted(client, heartbeat, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert client.post(url(heartbeat), data=b"z" * 50_000, content_type="text/plain").status_code == 200
    assert HeartbeatPing.objects.get().body_truncated is True


def test_binary_bodies_are_kept_as_text(client, heartbeat):
    client.post(url(heartbeat), data=b"ok \xff\x00 done", content_type="application/octet-stream")
    assert HeartbeatPing.objects.get().body == "ok \ufffd\ufffd done"


@pytest.mark.parametrize(("path", "field"), [("/256", "exit_code"), ("?rid=" + "r" * 65, "rid"), ("?rid=a%20b", "rid")])
def test_bad_input_is_400_naming_the_field(client, heartbeat, path, field):
    response = client.get(url(heartbeat, path))
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert HeartbeatPing.objects.count() == 0


def test_other_methods_are_refused(client, heartbeat):
    assert client.put(url(heartbeat)).status_code == 405
    assert HeartbeatPing.objects.count() == 0


def statements_of(request) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert request().status_code == 200
    return [q["sql"].split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_the_usual_ping_costs_one_statement_on_postgresql_and_three_on_sqlite(client, heartbeat):
    client.get(url(heartbeat))  # first ping flips unknown → up; later ones change no status
    expected = ["WITH"] if connection.vendor == "postgresql" else ["SELECT", "INSERT", "UPDATE"]
    assert statements_of(lambda: client.get(url(heartbeat))) == expected


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the single-statement paths are PostgreSQL's")
def test_log_and_cron_pings_on_postgresql_take_one_and_three_statements(client, heartbeat):
    assert statements_of(lambda: client.get(url(heartbeat, "/log"))) == ["INSERT"]
    client.get(url(heartbeat))
    Heartbeat.objects.filter(pk=heartbeat.pk).update(schedule=Heartbeat.Schedule.CRON, cron="0 3 * * *")
    # The steady statement matches no row (not a fixed period), then a read and the write.
    assert statements_of(lambda: client.get(url(heartbeat))) == ["WITH", "SELECT", "WITH"]
    assert HeartbeatPing.objects.count() == 3


AT = dt.datetime(2026, 5, 4, 12, 0, 30, 123456, tzinfo=dt.UTC)


def test_a_steady_ping_sets_the_exact_next_deadline(client, heartbeat):
    client.get(url(heartbeat))
    with time_machine.travel(AT, tick=False):
        client.get(url(heartbeat), REMOTE_ADDR="2001:db8::5")
    heartbeat.refresh_from_db()
    assert (heartbeat.last_ping_at, heartbeat.expected_at, heartbeat.alert_after, heartbeat.last_duration_ms) == (
        AT,
        AT + dt.timedelta(hours=1),
        AT + dt.timedelta(hours=1),
        None,
    )
    ping = HeartbeatPing.objects.latest("id")
    assert (ping.received_at, ping.remote_addr, ping.duration_ms, ping.exit_code) == (AT, "2001:db8::5", None, None)


def test_a_paused_heartbeat_records_pings_but_is_never_looked_at(client, heartbeat):
    Target.objects.filter(pk=heartbeat.pk).update(paused=True)
    for _ in range(2):
        with time_machine.travel(AT, tick=False):
            assert client.get(url(heartbeat)).status_code == 200
    heartbeat.refresh_from_db()
    heartbeat.target.refresh_from_db()
    assert (heartbeat.expected_at, heartbeat.alert_after, heartbeat.target.status) == (
        AT + dt.timedelta(hours=1),
        None,
        Status.UNKNOWN,
    )
    assert (HeartbeatPing.objects.count(), Flip.objects.count()) == (2, 0)


def test_a_cron_heartbeat_is_next_due_at_its_next_cron_time(client, heartbeat):
    Heartbeat.objects.filter(pk=heartbeat.pk).update(
        schedule=Heartbeat.Schedule.CRON, cron="0 3 * * *", time_zone="Europe/Berlin"
    )
    for _ in range(2):  # the second ping is no status change
        with time_machine.travel(AT, tick=False):
            client.get(url(heartbeat))
    heartbeat.refresh_from_db()
    assert heartbeat.expected_at == dt.datetime(2026, 5, 5, 1, 0, tzinfo=dt.UTC)  # 03:00 CEST


def test_a_ping_after_the_detector_found_the_heartbeat_late_flips_it_back_up(client, heartbeat):
    with time_machine.travel(AT, tick=False):
        client.get(url(heartbeat))
    late = AT + dt.timedelta(hours=1, minutes=5)
    heartbeats_detect(now=late)
    with time_machine.travel(late, tick=False):
        client.get(url(heartbeat))
    heartbeat.refresh_from_db()
    assert list(Flip.objects.order_by("at", "id").values_list("new_status", "at")) == [
        (Status.UP, AT),
        (Status.DEGRADED, AT + dt.timedelta(hours=1)),
        (Status.UP, late),
    ]
    assert heartbeat.alert_after == heartbeat.expected_at == late + dt.timedelta(hours=1)


def test_a_down_heartbeat_comes_back_up_with_a_flip(client, heartbeat):
    client.get(url(heartbeat, "/fail"))
    client.get(url(heartbeat))
    heartbeat.target.refresh_from_db()
    assert heartbeat.target.status == Status.UP
    assert list(Flip.objects.order_by("at", "id").values_list("new_status", "reason")) == [
        (Status.DOWN, "the job signalled a failure"),
        (Status.UP, "ping received"),
    ]
    assert list(Flip.objects.order_by("at", "id").values_list("cause", flat=True)) == [
        FlipCause.FAILURE_PING,
        FlipCause.RECOVERED,
    ]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the compare-and-set path is PostgreSQL's")
def test_a_ping_racing_another_one_is_recomputed_from_the_winners_state(client, heartbeat):
    """Another start lands between this finish's read and its write: the write must not go
    through on the stale state; the finish is stored once and paired with the newer start."""
    client.get(url(heartbeat))
    with time_machine.travel(AT - dt.timedelta(seconds=300), tick=False):
        client.get(url(heartbeat, "/start"))
    newer_start = AT - dt.timedelta(seconds=42)
    raced = []

    def another_start_lands_first(execute, sql, params, many, context):
        if not raced and sql.startswith("WITH") and "IS NOT DISTINCT FROM" in sql:  # the compare-and-set write
            raced.append(sql)
            Heartbeat.objects.filter(pk=heartbeat.pk).update(started_at=newer_start)
        return execute(sql, params, many, context)

    with time_machine.travel(AT, tick=False), connection.execute_wrapper(another_start_lands_first):
        assert client.get(url(heartbeat)).status_code == 200
    assert raced
    heartbeat.refresh_from_db()
    finish = HeartbeatPing.objects.latest("id")
    assert (finish.kind, finish.duration_ms, heartbeat.last_duration_ms) == (HeartbeatPing.Kind.SUCCESS, 42_000, 42_000)
    assert (heartbeat.started_at, heartbeat.last_ping_at) == (None, AT)
    assert HeartbeatPing.objects.count() == 3
