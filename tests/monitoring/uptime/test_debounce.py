"""Debounce and region quorum, through the service that records results, under frozen time."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.models import Flip, ProbeResult, Status
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.services.results import probe_results_record
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)


def report(target, outcome, *, region="local", error=""):
    """One probe result for `target` from `region`, stamped with the (frozen) current time."""
    if outcome != UP and not error:
        error = "status 503 not in 200-399"
    probe_results_record(
        region=region, probed=[Probed(target.pk, timezone.now(), ProbeOutcome(outcome, 12, error=error))]
    )
    target.refresh_from_db()
    return target.status


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_one_failure_does_not_page_anyone_two_in_a_row_do(clock):
    target = TargetFactory()
    assert report(target, UP) == Status.UP
    clock.shift(60)
    assert report(target, DOWN) == Status.UP  # a single blip at 3 am
    clock.shift(60)
    assert report(target, UP) == Status.UP
    clock.shift(60)
    assert report(target, DOWN) == Status.UP
    clock.shift(60)
    assert report(target, DOWN) == Status.DOWN
    flip = Flip.objects.get(new_status=Status.DOWN)
    assert flip.at == START + dt.timedelta(minutes=4)
    assert flip.old_status == Status.UP
    assert flip.reason == "down: status 503 not in 200-399 (2 of 2 probes failed)"


def test_n_failures_in_the_last_m_probes(clock):
    target = TargetFactory(down_after_failures=3, failure_window=5)
    for outcome, expected in [
        (UP, Status.UP),
        (DOWN, Status.UP),
        (UP, Status.UP),
        (DOWN, Status.UP),
        (UP, Status.UP),
        (DOWN, Status.DOWN),
    ]:
        clock.shift(30)
        assert report(target, outcome) == expected
    assert "(3 of the last 5 probes failed)" in Flip.objects.get(new_status=Status.DOWN).reason


def test_flapping_below_the_window_never_goes_down(clock):
    target = TargetFactory(down_after_failures=3, failure_window=4)
    for outcome in [UP, DOWN, UP, UP, DOWN, UP, UP, DOWN, UP]:
        clock.shift(30)
        assert report(target, outcome) == Status.UP


def test_up_again_only_after_k_successes(clock):
    target = TargetFactory(down_after_failures=1, up_after_successes=3)
    report(target, DOWN)
    for _ in range(2):
        clock.shift(60)
        assert report(target, UP) == Status.DOWN
    clock.shift(60)
    assert report(target, UP) == Status.UP
    up = Flip.objects.get(new_status=Status.UP)
    assert (up.at, up.reason) == (START + dt.timedelta(minutes=3), "up after 3 consecutive successes")
    clock.shift(60)
    report(target, DOWN)
    clock.shift(60)
    assert report(target, UP) == Status.DOWN  # the count starts again after a failure


def test_slow_responses_degrade_and_recover(clock):
    target = TargetFactory()
    report(target, UP)
    clock.shift(60)
    assert report(target, DEGRADED, error="slow: 900 ms, over 500 ms") == Status.DEGRADED
    clock.shift(60)
    assert report(target, UP) == Status.UP
    assert list(Flip.objects.order_by("at").values_list("old_status", "new_status")) == [
        (Status.UNKNOWN, Status.UP),
        (Status.UP, Status.DEGRADED),
        (Status.DEGRADED, Status.UP),
    ]


def test_every_result_is_kept_with_its_phases_and_region(clock):
    target = TargetFactory()
    probe_results_record(
        region="local",
        probed=[
            Probed(
                target.pk,
                timezone.now(),
                ProbeOutcome(UP, 40, dns_ms=1, connect_ms=2, tls_ms=None, first_byte_ms=30, status_code=200),
            )
        ],
    )
    row = ProbeResult.objects.get(target_id=target.pk)
    assert (
        row.outcome,
        row.latency_ms,
        row.dns_ms,
        row.connect_ms,
        row.first_byte_ms,
        row.status_code,
        row.region,
        row.checked_at,
    ) == (UP, 40, 1, 2, 30, 200, "local", START)


def test_a_paused_target_keeps_its_status(clock):
    target = TargetFactory(paused=True, status=Status.PAUSED)
    assert report(target, DOWN) == Status.PAUSED
    assert report(target, DOWN) == Status.PAUSED


class TestQuorum:
    def test_by_default_all_regions_must_agree(self, clock):
        target = TargetFactory(regions=["eu", "us"], down_after_failures=1)
        report(target, UP, region="eu")
        report(target, UP, region="us")
        clock.shift(30)
        assert report(target, DOWN, region="eu", error="timed out after 10 s") == Status.DEGRADED
        assert (
            Flip.objects.latest("at").reason
            == "down in eu only (1 of 2 regions, quorum 2): eu: timed out after 10 s (1 of 1 probes failed)"
        )
        clock.shift(1)
        assert report(target, DOWN, region="us", error="timed out after 10 s") == Status.DOWN
        flip = Flip.objects.get(new_status=Status.DOWN)
        assert flip.at == START + dt.timedelta(seconds=31)
        assert flip.reason == (
            "down in 2 of 2 regions, quorum 2: eu: timed out after 10 s (1 of 1 probes failed); "
            "us: timed out after 10 s (1 of 1 probes failed)"
        )

    def test_a_quorum_of_two_out_of_three(self, clock):
        target = TargetFactory(regions=["eu", "us", "ap"], quorum=2, down_after_failures=1)
        for region in ("eu", "us", "ap"):
            report(target, UP, region=region)
        clock.shift(30)
        assert report(target, DOWN, region="ap") == Status.DEGRADED
        assert report(target, DOWN, region="us") == Status.DOWN
        clock.shift(30)
        assert report(target, UP, region="us") == Status.DEGRADED  # ap still sees it down
        assert report(target, UP, region="ap") == Status.UP

    def test_each_region_debounces_on_its_own(self, clock):
        target = TargetFactory(regions=["eu", "us"])  # N = 2 in each region
        for _ in range(2):
            report(target, UP, region="eu")
            report(target, UP, region="us")
        clock.shift(30)
        report(target, DOWN, region="eu")
        report(target, DOWN, region="us")
        assert target.status == Status.UP  # one failure per region is still a blip
        clock.shift(30)
        report(target, DOWN, region="eu")
        assert report(target, DOWN, region="us") == Status.DOWN

    def test_a_result_from_a_region_the_target_no_longer_names_does_not_vote(self, clock):
        target = TargetFactory(regions=["eu"], down_after_failures=1)
        report(target, UP, region="eu")
        assert report(target, DOWN, region="us") == Status.UP
        assert ProbeResult.objects.filter(target_id=target.pk, region="us").count() == 1


def test_a_batch_is_written_in_one_insert_and_one_update(clock):
    targets = TargetFactory.create_batch(20)
    probed = [Probed(t.pk, timezone.now(), ProbeOutcome(UP, 10)) for t in targets]
    with CaptureQueriesContext(connection) as queries:
        probe_results_record(region="local", probed=probed)
    # Django logs an executemany as "N times: <sql>".
    statements = [q["sql"].removeprefix("20 times: ").split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]
    # results, lock and read targets, update targets (one batched call), flips: the same
    # four calls for any batch size
    assert statements == ["INSERT", "SELECT", "UPDATE", "INSERT"]
    assert ProbeResult.objects.count() == 20
    assert Flip.objects.filter(new_status=Status.UP).count() == 20
