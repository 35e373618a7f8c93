"""Sentry Crons: sentry-sdk's monitor decorator and check-ins feed heartbeat monitors."""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from sentry_sdk.crons import capture_checkin, monitor

from monitoring.heartbeats.checkin_items import InvalidCheckIn, check_in_parse
from monitoring.heartbeats.services.pings import heartbeats_detect
from monitoring.models import EnvelopeOutcome, Flip, Heartbeat, HeartbeatPing, Status, Target
from monitoring.uptime.models import FlipCause

NIGHTLY = {
    "schedule": {"type": "crontab", "value": "0 3 * * *"},
    "checkin_margin": 5,
    "max_runtime": 30,
    "timezone": "Europe/Vienna",
}


@pytest.mark.django_db(transaction=True)
def test_the_monitor_decorator_creates_the_heartbeat_and_pings_it(sdk):
    @monitor(monitor_slug="nightly-invoices", monitor_config=NIGHTLY)
    def nightly():
        return "done"

    assert nightly() == "done"
    sdk.flush(timeout=10)

    target = Target.objects.get(name="nightly-invoices", kind=Target.Kind.HEARTBEAT)
    heartbeat = target.heartbeat
    assert (heartbeat.schedule, heartbeat.cron, heartbeat.time_zone) == ("cron", "0 3 * * *", "Europe/Vienna")
    assert (heartbeat.grace_seconds, heartbeat.max_runtime_seconds) == (300, 1800)
    kinds = list(HeartbeatPing.objects.filter(heartbeat=heartbeat).order_by("id").values_list("kind", flat=True))
    assert kinds == [HeartbeatPing.Kind.START, HeartbeatPing.Kind.SUCCESS]
    assert (
        HeartbeatPing.objects.filter(heartbeat=heartbeat, kind=HeartbeatPing.Kind.SUCCESS).get().duration_ms is not None
    )
    target.refresh_from_db()
    assert target.status == Status.UP


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_takes_its_monitor_down(sdk):
    @monitor(monitor_slug="sync", monitor_config={"schedule": {"type": "interval", "value": 2, "unit": "hour"}})
    def sync():
        raise RuntimeError("upstream gone")

    with pytest.raises(RuntimeError):
        sync()
    sdk.flush(timeout=10)
    target = Target.objects.get(name="sync")
    assert target.heartbeat.period_seconds == 7200
    assert target.status == Status.DOWN
    assert Flip.objects.get(target=target, new_status=Status.DOWN).cause == FlipCause.FAILURE_PING


@pytest.mark.django_db(transaction=True)
def test_check_ins_without_config_need_an_existing_monitor(sdk):
    capture_checkin(monitor_slug="never-configured", status="ok")
    sdk.flush(timeout=10)
    assert not Target.objects.exists()
    assert EnvelopeOutcome.objects.get().reason == "unknown_monitor"


@pytest.mark.django_db
def test_a_changed_config_updates_the_heartbeat_and_a_bad_one_is_dropped(client, ingest_key):
    def send(payload):
        body = b'{}\n{"type":"check_in"}\n' + json.dumps(payload).encode() + b"\n"
        response = client.generic(
            "POST",
            f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
            body,
            content_type="application/x-sentry-envelope",
        )
        assert response.status_code == 200

    base = {"monitor_slug": "backup", "status": "ok", "check_in_id": uuid.uuid4().hex}
    send({**base, "monitor_config": {"schedule": {"type": "interval", "value": 1, "unit": "day"}}})
    send({**base, "monitor_config": {"schedule": {"type": "interval", "value": 12, "unit": "hour"}}})
    assert Heartbeat.objects.get().period_seconds == 43_200
    send({**base, "monitor_slug": "broken", "monitor_config": {"schedule": {"type": "crontab", "value": "not cron"}}})
    assert not Target.objects.filter(name="broken").exists()
    assert EnvelopeOutcome.objects.get().reason == "invalid"
    assert HeartbeatPing.objects.count() == 2


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"status": "ok"},
        {"monitor_slug": "x", "status": "done"},
        {"monitor_slug": "x", "status": "ok", "check_in_id": "nope"},
        {
            "monitor_slug": "x",
            "status": "ok",
            "monitor_config": {"schedule": {"type": "interval", "value": 0, "unit": "day"}},
        },
        {"monitor_slug": "x", "status": "ok", "monitor_config": {"schedule": {"type": "weekly"}}},
        {
            "monitor_slug": "x",
            "status": "ok",
            "monitor_config": {"schedule": {"type": "crontab", "value": "* * * * *"}, "checkin_margin": -1},
        },
    ],
)
def test_malformed_check_ins_are_refused(payload):
    with pytest.raises(InvalidCheckIn):
        check_in_parse(payload)


def send_check_ins(client, ingest_key, *payloads):
    body = b"{}\n" + b"".join(b'{"type":"check_in"}\n' + json.dumps(p).encode() + b"\n" for p in payloads)
    response = client.generic(
        "POST",
        f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200


HOURLY_ONE_MINUTE_MAX = {"schedule": {"type": "interval", "value": 1, "unit": "hour"}, "max_runtime": 1}


@pytest.mark.django_db
def test_the_duration_a_check_in_reports_is_the_run_time_and_max_runtime_flags_an_overrun(client, ingest_key):
    # Both check-ins arrive together, as an SDK retrying after an outage sends them: the
    # time between their arrival says nothing of how long the job ran.
    run = uuid.uuid4().hex
    base = {"monitor_slug": "import", "check_in_id": run, "monitor_config": HOURLY_ONE_MINUTE_MAX}
    send_check_ins(client, ingest_key, {**base, "status": "in_progress"}, {**base, "status": "ok", "duration": 150})
    finish = HeartbeatPing.objects.get(kind=HeartbeatPing.Kind.SUCCESS)
    assert finish.duration_ms == 150_000
    target = Target.objects.get(name="import")
    assert target.heartbeat.last_duration_ms == 150_000
    assert target.status == Status.DOWN
    flip = Flip.objects.get(target=target, new_status=Status.DOWN)
    assert flip.cause == FlipCause.OVER_RUNTIME and "150 s" in flip.reason


@pytest.mark.django_db
def test_a_check_in_within_max_runtime_stays_up_and_keeps_its_reported_duration(client, ingest_key):
    base = {"monitor_slug": "quick", "check_in_id": uuid.uuid4().hex, "monitor_config": HOURLY_ONE_MINUTE_MAX}
    send_check_ins(client, ingest_key, {**base, "status": "in_progress"})
    send_check_ins(client, ingest_key, {**base, "status": "ok", "duration": 12.5})
    assert HeartbeatPing.objects.get(kind=HeartbeatPing.Kind.SUCCESS).duration_ms == 12_500
    assert Target.objects.get(name="quick").status == Status.UP


@pytest.mark.django_db
def test_an_in_progress_check_in_never_finished_times_out_after_max_runtime(client, ingest_key):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send_check_ins(
            client,
            ingest_key,
            {
                "monitor_slug": "stuck",
                "check_in_id": uuid.uuid4().hex,
                "status": "in_progress",
                "monitor_config": HOURLY_ONE_MINUTE_MAX,
            },
        )
    target = Target.objects.get(name="stuck")
    assert target.heartbeat.alert_after == start + timedelta(minutes=1)
    assert heartbeats_detect(now=start + timedelta(seconds=59)) == 0
    assert heartbeats_detect(now=start + timedelta(seconds=61)) == 1
    target.refresh_from_db()
    assert target.status == Status.DOWN
    flip = Flip.objects.get(target=target, new_status=Status.DOWN)
    assert flip.cause == FlipCause.OVER_RUNTIME and flip.at == start + timedelta(minutes=1)


@pytest.mark.parametrize("duration", [-1, "150", True, float("inf"), 10**9])
def test_a_duration_that_is_not_seconds_is_refused(duration):
    with pytest.raises(InvalidCheckIn, match="duration"):
        check_in_parse({"monitor_slug": "x", "status": "ok", "duration": duration})


def test_an_in_progress_check_in_has_no_run_time_yet():
    assert check_in_parse({"monitor_slug": "x", "status": "in_progress", "duration": 0}).duration is None
    assert check_in_parse({"monitor_slug": "x", "status": "error", "duration": 2}).duration == timedelta(seconds=2)
