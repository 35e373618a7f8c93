"""The read functions the alert engine builds on."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import Flip, Status
from monitoring.uptime.models import FlipCause
from monitoring.uptime.probes.base import DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.selectors import (
    LatestFlip,
    certificates_expiring,
    flips_since,
    latest_flips,
    target_flips,
    target_results,
    target_statuses,
)
from monitoring.uptime.services.results import probe_results_record
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)


def test_status_flips_and_results_as_the_alert_engine_reads_them(django_assert_num_queries):
    shop, blog = TargetFactory(down_after_failures=1), TargetFactory()
    with time_machine.travel(T0, tick=False) as clock:
        for outcome in (UP, DOWN):
            probe_results_record(
                region="local",
                probed=[
                    Probed(shop.pk, timezone.now(), ProbeOutcome(outcome, 20, error="" if outcome == UP else "boom")),
                    Probed(blog.pk, timezone.now(), ProbeOutcome(UP, 30)),
                ],
            )
            clock.shift(60)
    with django_assert_num_queries(1):
        # Read while the region still reports (later, it would be silent: see test_silent_regions).
        statuses = {s.target_id: s for s in target_statuses(now=T0 + dt.timedelta(minutes=2))}
    assert statuses[shop.pk].status == Status.DOWN and statuses[shop.pk].since == T0 + dt.timedelta(minutes=1)
    assert statuses[blog.pk].status == Status.UP
    assert [(f.target_id, f.new_status) for f in flips_since(since=T0)] == [(shop.pk, Status.DOWN)]
    assert len(flips_since(since=T0 - dt.timedelta(seconds=1))) == 3
    assert [r.outcome for r in target_results(target_id=shop.pk)] == [DOWN, UP]
    assert target_statuses(project_id=blog.project_id)[0].target_id == blog.pk


def test_certificates_expiring_soonest_first():
    now = timezone.now()
    later = TargetFactory(cert_expires_at=now + dt.timedelta(days=20))
    sooner = TargetFactory(cert_expires_at=now + dt.timedelta(days=3))
    TargetFactory(cert_expires_at=now + dt.timedelta(days=90))
    TargetFactory(cert_expires_at=now + dt.timedelta(days=1), paused=True)
    assert [s.target_id for s in certificates_expiring(before=now + dt.timedelta(days=30))] == [sooner.pk, later.pk]


def _flip(target, at: dt.datetime, new_status: str, cause: FlipCause) -> Flip:
    return Flip.objects.create(
        target=target, at=at, old_status=Status.UP, new_status=new_status, cause=cause, reason=f"{cause} at {at}"
    )


def test_latest_flips_reads_one_row_per_target_in_one_query_however_long_the_history(django_assert_num_queries):
    short, long, never = TargetFactory(), TargetFactory(), TargetFactory()
    _flip(short, T0, Status.DOWN, FlipCause.TIMEOUT)

    def read() -> tuple[dict[int, LatestFlip], str]:
        with django_assert_num_queries(1) as captured:
            flips = latest_flips(target_ids=[short.pk, long.pk, never.pk])
        return flips, captured.captured_queries[0]["sql"]

    _flip(long, T0, Status.DOWN, FlipCause.BAD_STATUS)
    flips, sql_with_one_flip = read()
    assert flips[long.pk].cause == FlipCause.BAD_STATUS
    Flip.objects.bulk_create(
        Flip(
            target=long,
            at=T0 - dt.timedelta(minutes=i),
            old_status=Status.UP,
            new_status=Status.DOWN,
            cause=FlipCause.TIMEOUT,
            reason="older",
        )
        for i in range(1, 500)
    )
    # The newest wins, and among flips at the same moment the later one.
    _flip(long, T0 + dt.timedelta(minutes=5), Status.DEGRADED, FlipCause.SLOW)
    newest = _flip(long, T0 + dt.timedelta(minutes=5), Status.UP, FlipCause.RECOVERED)
    flips, sql_with_history = read()

    assert sql_with_history == sql_with_one_flip  # the same statement: no list of flips grows in it
    assert set(flips) == {short.pk, long.pk}
    assert flips[long.pk] == LatestFlip(
        at=newest.at, new_status=Status.UP, cause=FlipCause.RECOVERED, reason=newest.reason
    )
    assert (flips[short.pk].new_status, flips[short.pk].cause) == (Status.DOWN, FlipCause.TIMEOUT)


def test_target_flips_newest_first_up_to_the_limit():
    target, other = TargetFactory(), TargetFactory()
    for minute in range(5):
        _flip(target, T0 + dt.timedelta(minutes=minute), Status.DOWN, FlipCause.TIMEOUT)
    _flip(other, T0 + dt.timedelta(hours=1), Status.DOWN, FlipCause.TIMEOUT)
    assert [f.at for f in target_flips(target_id=target.pk, limit=3)] == [
        T0 + dt.timedelta(minutes=m) for m in (4, 3, 2)
    ]
