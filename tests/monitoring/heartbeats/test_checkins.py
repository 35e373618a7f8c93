"""Sentry Crons: sentry-sdk's monitor decorator and check-ins feed heartbeat monitors."""

import json
import uuid

import pytest
from sentry_sdk.crons import capture_checkin, monitor

from monitoring.heartbeats.checkin_items import InvalidCheckIn, check_in_parse
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
