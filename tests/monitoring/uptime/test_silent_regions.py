"""A region whose worker stopped goes silent: it counts as unknown, never as its last status,
and a target that can no longer reach its quorum says so, alerts, and fails /health."""

import datetime as dt
import time
import uuid

import pytest
import time_machine
from celery import current_app
from django.utils import timezone
from kombu import Exchange, Queue

from alerts.rules.kinds import RULE_KINDS
from alerts.rules.services.evaluation import rules_evaluate_due
from monitoring.health.services import pulse_record
from monitoring.health.worker_pulse import queue_pulse_name
from monitoring.models import Status, Target
from monitoring.uptime.probes.base import DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.selectors import target_regions, target_statuses
from monitoring.uptime.services.results import probe_results_record
from monitoring.uptime.tasks import dispatch_due_probes
from tests.alerts.rules.factories import RuleFactory, capture_signals
from tests.config.test_celery_worker import WAIT_SECONDS, Worker
from tests.factories import ProjectFactory, make_api_token
from tests.monitoring.uptime.factories import TargetFactory
from tests.monitoring.uptime.servers import closed_port

T0 = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)


def _report(target: Target, region: str, outcome: int, at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        error = "" if outcome == UP else "connection refused"
        probe_results_record(region=region, probed=[Probed(target.pk, at, ProbeOutcome(outcome, 20, error=error))])


def _two_region_target(**fields) -> Target:
    with time_machine.travel(T0 - dt.timedelta(minutes=1), tick=False):
        return TargetFactory(regions=["local", "eu"], interval_seconds=60, down_after_failures=1, **fields)


@pytest.mark.django_db
def test_a_stopped_regions_last_up_no_longer_outvotes_a_failing_region():
    """The outage as reported: quorum all, eu's worker stopped, local failing for minutes."""
    shop = _two_region_target(quorum=None)
    _report(shop, "local", UP, T0)
    _report(shop, "eu", UP, T0)
    # eu stops reporting; local starts failing two and a half intervals later.
    for minute in (1, 2, 3):
        _report(shop, "local", UP if minute < 3 else DOWN, T0 + dt.timedelta(minutes=minute))

    [state] = target_statuses(target_ids=[shop.pk], now=T0 + dt.timedelta(minutes=3))
    assert state.status == "silent"
    assert state.silent_regions == ("eu",)
    shop.refresh_from_db()
    # The stored status follows what live regions say: eu's old "up" no longer counts.
    assert shop.status == Status.DEGRADED
    regions = {r.region: r for r in target_regions(target=shop, now=T0 + dt.timedelta(minutes=3))}
    assert (regions["eu"].status, regions["eu"].silent, regions["eu"].last_outcome) == ("unknown", True, "up")
    assert regions["eu"].last_result_at == T0
    assert (regions["local"].status, regions["local"].silent, regions["local"].last_error) == (
        "down",
        False,
        "connection refused",
    )


@pytest.mark.django_db
def test_a_region_is_silent_only_after_two_intervals_and_speaks_again_when_it_reports():
    shop = _two_region_target(quorum=1)
    _report(shop, "local", UP, T0)
    _report(shop, "eu", DOWN, T0)  # quorum 1: eu alone calls it down
    shop.refresh_from_db()
    assert shop.status == Status.DOWN

    def read(after: dt.timedelta):
        [state] = target_statuses(target_ids=[shop.pk], now=T0 + after)
        return state.status, state.silent_regions

    assert read(dt.timedelta(seconds=120)) == (Status.DOWN, ())  # exactly two intervals: still a vote
    assert read(dt.timedelta(seconds=121)) == ("silent", ("local", "eu"))  # nobody left to vote
    _report(shop, "local", UP, T0 + dt.timedelta(seconds=130))
    # Silent eu with quorum 1 of 2: local alone decides, and eu's last "down" no longer counts.
    shop.refresh_from_db()
    assert shop.status == Status.UP
    assert read(dt.timedelta(seconds=131)) == (Status.UP, ("eu",))
    _report(shop, "eu", UP, T0 + dt.timedelta(seconds=140))
    assert read(dt.timedelta(seconds=141)) == (Status.UP, ())


@pytest.mark.django_db
def test_a_new_target_is_not_silent_before_its_first_probes_are_due():
    shop = _two_region_target()
    assert target_statuses(target_ids=[shop.pk], now=T0)[0].status == Status.UNKNOWN
    assert target_statuses(target_ids=[shop.pk], now=T0 + dt.timedelta(minutes=2))[0].status == "silent"


@pytest.mark.django_db
def test_an_unreachable_quorum_raises_an_alert_of_its_own_whatever_the_rule_watches(monkeypatch):
    signals = capture_signals(monkeypatch)
    project = ProjectFactory(slug="shop")
    shop = _two_region_target(project=project, name="Storefront")
    RuleFactory(
        project=project,
        name="Storefront down",
        kind="target_status",
        next_evaluation_at=T0,
        params=RULE_KINDS["target_status"].validate_params({"statuses": ["down"]}),
    )
    _report(shop, "local", UP, T0)
    _report(shop, "eu", UP, T0)
    with time_machine.travel(T0 + dt.timedelta(seconds=30), tick=False):
        rules_evaluate_due(now=timezone.now())
    assert signals == []

    later = T0 + dt.timedelta(minutes=3)
    _report(shop, "local", UP, later)
    with time_machine.travel(later, tick=False):
        rules_evaluate_due(now=later)

    [signal] = signals
    assert signal.status == "firing"
    assert signal.labels["target"] == "Storefront" and signal.labels["check"] == "quorum"


@pytest.mark.django_db
def test_the_api_shows_the_status_and_last_result_of_each_region(client):
    shop = _two_region_target(quorum=None)
    now = timezone.now()
    _report(shop, "local", DOWN, now)
    _report(shop, "eu", UP, now - dt.timedelta(minutes=5))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_api_token(scope='read').secret}"}

    target = client.get(f"/api/v1/targets/{shop.pk}", **auth).json()
    regions = client.get(f"/api/v1/targets/{shop.pk}/regions", **auth).json()
    summary = client.get("/api/v1/targets/summary", **auth).json()

    assert (target["status"], target["silent_regions"]) == ("silent", ["eu"])
    assert [(r["region"], r["status"], r["silent"], r["last_outcome"]) for r in regions] == [
        ("local", "down", False, "down"),
        ("eu", "unknown", True, "up"),
    ]
    assert regions[0]["last_error"] == "connection refused"
    assert summary["counts"] == {"silent": 1}


@pytest.mark.django_db
def test_health_fails_for_a_region_that_targets_use_and_no_worker_serves(client):
    TargetFactory(regions=["local", "eu"])
    TargetFactory(regions=["ap"], paused=True)  # nobody probes a paused target: no worker needed
    now = timezone.now()
    pulse_record(kind="worker", name="w1@host", at=now)
    pulse_record(kind="worker", name=queue_pulse_name("probes.local", "w1@host"), at=now)

    body = client.get("/health/regions").json()

    assert body["status"] == "fail"
    entries = {e["componentId"]: e for e in body["checks"]["regions:pulseAge"]}
    assert set(entries) == {"probes.local", "probes.eu"}
    assert entries["probes.local"]["status"] == "pass"
    assert (entries["probes.eu"]["status"], entries["probes.eu"]["output"]) == (
        "fail",
        "no worker consumes probes.eu",
    )
    assert "no worker consumes probes.eu" in body["output"]
    # The worker check itself still names the worker, not one of its queues.
    assert client.get("/health/worker").json()["checks"]["worker:pulseAge"][0]["componentId"] == "w1@host"

    pulse_record(kind="worker", name=queue_pulse_name("probes.eu", "w2@host"), at=now)
    assert client.get("/health/regions").status_code == 200


# --- Two real workers over the real broker, one of them stopped.


def _delete_queue(name: str) -> None:
    with current_app.connection_for_write() as broker:
        queue = Queue(name, Exchange(name), routing_key=name, channel=broker.default_channel)
        queue.declare()
        queue.delete()
        queue.exchange.delete()


def _until(condition, what: str, *, workers, seconds: float = WAIT_SECONDS, every=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if every:
            every()
        if condition():
            return
        time.sleep(1)
    logs = "\n\n".join(f"{w.hostname}:\n" + "\n".join(w.log_lines()[-20:]) for w in workers)
    pytest.fail(f"{what}; worker logs:\n{logs}")


@pytest.mark.celery_worker
def test_with_one_of_two_region_workers_stopped_the_target_goes_silent_and_health_fails(
    transactional_db, tmp_path, client, settings
):
    settings.HEALTH_WORKER_MAX_AGE = 40  # a live worker pulses every 15 s; the stopped one fails sooner
    suffix = uuid.uuid4().hex[:8]
    near, far = f"near-{suffix}", f"far-{suffix}"  # regions of their own on a shared broker
    shop = TargetFactory(
        kind=Target.Kind.TCP,
        host="127.0.0.1",
        port=closed_port(),
        url="",
        regions=[near, far],
        interval_seconds=10,
        down_after_failures=1,
    )
    workers = [
        Worker(queue=f"probes.{region}", hostname=f"{region}@lookout", log_path=tmp_path / f"{region}.log")
        for region in (near, far)
    ]
    try:

        def reported(*regions):
            shop.refresh_from_db()
            return all((shop.region_states.get(r) or {}).get("at") for r in regions)

        # The test is beat: it ticks the dispatcher, which sends each region's batch to its queue.
        _until(lambda: reported(near, far), "both regions never reported", workers=workers, every=dispatch_due_probes)
        shop.refresh_from_db()
        assert shop.status == Status.DOWN  # both regions see the refused port: quorum all reached
        assert client.get("/health/regions").status_code == 200

        workers[1].stop()
        # Two intervals (20 s) after far's last result, its old "down" no longer counts.
        _until(
            lambda: target_statuses(target_ids=[shop.pk])[0].status == "silent",
            "the target never read as silent",
            workers=workers[:1],
            seconds=60,
            every=dispatch_due_probes,
        )
        [state] = target_statuses(target_ids=[shop.pk])
        assert state.silent_regions == (far,)
        shop.refresh_from_db()
        regions = {r.region: r for r in target_regions(target=shop)}
        assert regions[far].status == "unknown" and regions[near].status == "down"
        # Health names the stopped region once its queue pulse is older than the limit.
        _until(lambda: client.get("/health/regions").status_code == 503, "health never failed", workers=workers[:1])
        body = client.get("/health/regions").json()
        entries = {e["componentId"]: e["status"] for e in body["checks"]["regions:pulseAge"]}
        assert entries == {f"probes.{near}": "pass", f"probes.{far}": "fail"}
        assert f"last probes.{far} worker pulse is" in body["output"]
    finally:
        for worker in workers:
            worker.stop()
        for region in (near, far):
            _delete_queue(f"probes.{region}")
