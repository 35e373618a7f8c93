"""The dispatcher: claims due targets once, keeps their cadence, batches them per region."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from monitoring.models import Target
from monitoring.uptime.services import dispatch as probe_dispatch
from monitoring.uptime.services.dispatch import probes_dispatch, targets_claim_due
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


def collect():
    sent = []
    return sent, lambda ids, region, due_at: sent.append((region, sorted(ids)))


@pytest.mark.django_db
class TestDispatch:
    @pytest.fixture(autouse=True)
    def clock(self):
        with time_machine.travel(NOW, tick=False):
            yield

    def test_only_due_unpaused_probed_targets_are_sent(self):
        due = TargetFactory(next_run_at=NOW - dt.timedelta(seconds=3))
        TargetFactory(next_run_at=NOW + dt.timedelta(seconds=6))  # after the next tick (5 s)
        TargetFactory(next_run_at=NOW - dt.timedelta(seconds=3), paused=True)
        HeartbeatFactory(target__next_run_at=NOW - dt.timedelta(seconds=3))
        sent, send = collect()
        assert probes_dispatch(now=timezone.now(), send=send).claimed == 1
        assert sent == [("local", [due.pk])]

    def test_a_claimed_target_is_not_sent_again_until_its_next_run(self):
        target = TargetFactory(next_run_at=NOW, interval_seconds=30)
        sent, send = collect()
        probes_dispatch(now=NOW, send=send)
        probes_dispatch(now=NOW + dt.timedelta(seconds=24), send=send)  # next run is past this tick
        assert len(sent) == 1
        target.refresh_from_db()
        assert target.next_run_at == NOW + dt.timedelta(seconds=30)
        probes_dispatch(now=NOW + dt.timedelta(seconds=25), send=send)  # due before the next tick
        assert len(sent) == 2
        target.refresh_from_db()
        assert target.next_run_at == NOW + dt.timedelta(seconds=60)  # the cadence, not the claim time

    def test_targets_due_before_the_next_tick_are_sent_with_their_due_times_a_second_per_batch(self):
        late, now, soon, later = (TargetFactory(next_run_at=NOW + dt.timedelta(seconds=s)) for s in (-1, -0.5, 0.5, 4))
        batches = []
        probes_dispatch(now=NOW, send=lambda ids, region, due_at: batches.append(list(zip(ids, due_at))))
        at = lambda seconds: (NOW + dt.timedelta(seconds=seconds)).timestamp()  # noqa: E731
        assert batches == [[(late.pk, at(-1)), (now.pk, at(-0.5))], [(soon.pk, at(0.5))], [(later.pk, at(4))]]

    def test_each_region_gets_its_own_batches(self, settings):
        settings.PROBE_BATCH_SIZE = 2
        targets = TargetFactory.create_batch(3, next_run_at=NOW, regions=["eu", "us"])
        only_eu = TargetFactory(next_run_at=NOW, regions=["eu"])
        sent, send = collect()
        result = probes_dispatch(now=NOW, send=send)
        assert dict(result.batches) == {"eu": 2, "us": 2}
        eu_ids = sorted(i for region, ids in sent if region == "eu" for i in ids)
        us_ids = sorted(i for region, ids in sent if region == "us" for i in ids)
        assert eu_ids == sorted([t.pk for t in targets] + [only_eu.pk])
        assert us_ids == sorted(t.pk for t in targets)

    def test_a_broker_failure_leaves_the_targets_due(self):
        target = TargetFactory(next_run_at=NOW)

        def refuse(ids, region, due_at):
            raise ConnectionError("broker down")

        with pytest.raises(ConnectionError):
            probes_dispatch(now=NOW, send=refuse)
        target.refresh_from_db()
        assert target.next_run_at == NOW
        sent, send = collect()
        probes_dispatch(now=NOW, send=send)
        assert sent == [("local", [target.pk])]

    def test_claims_in_chunks_until_nothing_is_due(self, monkeypatch):
        monkeypatch.setattr(probe_dispatch, "CLAIM_CHUNK", 4)
        TargetFactory.create_batch(10, next_run_at=NOW)
        sent, send = collect()
        assert probes_dispatch(now=NOW, send=send).claimed == 10
        assert sum(len(ids) for _, ids in sent) == 10


@pytest.mark.django_db
def test_the_cadence_is_kept_unless_the_dispatcher_fell_behind():
    on_time = TargetFactory(next_run_at=NOW - dt.timedelta(seconds=2), interval_seconds=60)
    other_interval = TargetFactory(next_run_at=NOW - dt.timedelta(seconds=2), interval_seconds=300)
    # After an outage, one probe now and then every interval, not a burst of catch-up runs.
    behind = TargetFactory(next_run_at=NOW - dt.timedelta(minutes=10), interval_seconds=60)
    # Probed now, 40 s late: keeping the cadence would probe it again 20 s from now, at the
    # next tick's lookahead, twice within half an interval. It starts again from now.
    late = TargetFactory(next_run_at=NOW - dt.timedelta(seconds=40), interval_seconds=60)
    with transaction.atomic():
        assert len(targets_claim_due(now=NOW, limit=100)) == 4
    for target, expected in [
        (on_time, NOW + dt.timedelta(seconds=58)),
        (other_interval, NOW + dt.timedelta(seconds=298)),
        (behind, NOW + dt.timedelta(seconds=60)),
        (late, NOW + dt.timedelta(seconds=60)),
    ]:
        target.refresh_from_db()
        assert target.next_run_at == expected


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_claim_the_same_target():
    TargetFactory.create_batch(30, next_run_at=NOW)
    first_holds = threading.Event()
    release = threading.Event()
    claimed: dict[str, list[int]] = {}

    def slow_dispatcher():
        try:
            with transaction.atomic():
                claimed["slow"] = [t.target_id for t in targets_claim_due(now=NOW, limit=20)]
                first_holds.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_dispatcher)
    thread.start()
    assert first_holds.wait(10)
    with transaction.atomic():
        claimed["fast"] = [t.target_id for t in targets_claim_due(now=NOW, limit=20)]
    release.set()
    thread.join(10)
    assert len(claimed["slow"]) == 20 and len(claimed["fast"]) == 10
    assert not set(claimed["slow"]) & set(claimed["fast"])
    assert Target.objects.filter(next_run_at__lte=NOW).count() == 0
