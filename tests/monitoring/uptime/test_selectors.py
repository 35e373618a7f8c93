"""The read functions the alert engine builds on."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import Status
from monitoring.uptime.probes.base import DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.selectors import certificates_expiring, flips_since, target_results, target_statuses
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
        statuses = {s.target_id: s for s in target_statuses()}
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
