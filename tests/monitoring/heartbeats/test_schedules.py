"""Heartbeat schedules and the detector, under frozen time, across DST changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from monitoring.heartbeats.services.pings import Ping, heartbeat_next_expected, heartbeat_ping, heartbeats_detect
from monitoring.models import Flip, Heartbeat, HeartbeatPing, Status
from monitoring.uptime.models import FlipCause
from monitoring.uptime.services.actions import targets_pause
from tests.monitoring.uptime.factories import HeartbeatFactory

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


class TestNextExpected:
    def test_a_period_is_exact_elapsed_time(self):
        heartbeat = Heartbeat(period_seconds=86400)
        # 24 h after 12:00 on the day clocks go forward is 13:00 local: a period ignores the wall clock.
        assert heartbeat_next_expected(heartbeat, after=local(2026, 3, 28, 12, 0)) == local(2026, 3, 29, 13, 0)

    def test_cron_keeps_local_time_across_spring_forward(self):
        heartbeat = Heartbeat(schedule="cron", cron="0 3 * * *", time_zone="Europe/Berlin")
        after = local(2026, 3, 28, 3, 5)  # CET, UTC+1
        expected = heartbeat_next_expected(heartbeat, after=after)
        assert expected == local(2026, 3, 29, 3, 0)  # CEST now
        assert expected - after == dt.timedelta(hours=22, minutes=55)  # a short night
        assert expected.tzinfo == UTC

    def test_a_cron_time_skipped_by_spring_forward_runs_right_after_the_gap(self):
        heartbeat = Heartbeat(schedule="cron", cron="30 2 * * *", time_zone="Europe/Berlin")
        assert heartbeat_next_expected(heartbeat, after=local(2026, 3, 28, 12, 0)) == dt.datetime(
            2026, 3, 29, 1, 0, tzinfo=UTC
        )  # 03:00 CEST

    def test_hourly_cron_fires_twice_in_the_repeated_hour_of_fall_back(self):
        heartbeat = Heartbeat(schedule="cron", cron="0 * * * *", time_zone="Europe/Berlin")
        first = heartbeat_next_expected(heartbeat, after=dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC))
        second = heartbeat_next_expected(heartbeat, after=first)
        third = heartbeat_next_expected(heartbeat, after=second)
        # 02:00 CEST, 02:00 CET, 03:00 CET: one hour apart each in real time.
        assert [first, second, third] == [dt.datetime(2026, 10, 25, h, 0, tzinfo=UTC) for h in (0, 1, 2)]

    def test_the_zone_decides_the_hour(self):
        tokyo = Heartbeat(schedule="cron", cron="0 9 * * 1-5", time_zone="Asia/Tokyo")
        assert heartbeat_next_expected(tokyo, after=dt.datetime(2026, 6, 5, 1, 0, tzinfo=UTC)) == dt.datetime(
            2026, 6, 8, 0, 0, tzinfo=UTC
        )  # Friday 10:00 JST → Monday 09:00 JST


@pytest.mark.django_db
class TestValidation:
    def test_bad_cron_time_zone_and_period_are_field_errors(self):
        heartbeat = HeartbeatFactory()
        heartbeat.schedule, heartbeat.cron, heartbeat.time_zone = "cron", "61 * * * *", "Mars/Olympus"
        heartbeat.period_seconds = 5
        with pytest.raises(ValidationError) as error:
            heartbeat.full_clean()
        assert set(error.value.message_dict) == {"cron", "time_zone", "period_seconds"}

    def test_a_cron_schedule_needs_an_expression(self):
        heartbeat = HeartbeatFactory(schedule="period")
        heartbeat.schedule = "cron"
        with pytest.raises(ValidationError) as error:
            heartbeat.full_clean()
        assert "cron" in error.value.message_dict

    def test_a_path_is_not_a_time_zone(self):
        heartbeat = HeartbeatFactory()
        heartbeat.time_zone = "../../etc/passwd"
        with pytest.raises(ValidationError) as error:
            heartbeat.full_clean()
        assert list(error.value.message_dict) == ["time_zone"]


def send(heartbeat, kind=HeartbeatPing.Kind.SUCCESS, **fields):
    assert heartbeat_ping(ping_key=heartbeat.ping_key, ping=Ping(kind=kind, at=timezone.now(), **fields))


def status_of(heartbeat):
    heartbeat.target.refresh_from_db()
    return heartbeat.target.status


@pytest.mark.django_db
class TestDetection:
    START = dt.datetime(2026, 3, 27, 2, 0, tzinfo=UTC)

    @pytest.fixture
    def clock(self):
        with time_machine.travel(self.START, tick=False) as traveller:
            yield traveller

    def test_late_then_missing_with_the_exact_deadlines(self, clock):
        heartbeat = HeartbeatFactory(period_seconds=3600, grace_seconds=600)
        send(heartbeat)
        clock.shift(dt.timedelta(minutes=59))
        assert heartbeats_detect(now=timezone.now()) == 0
        clock.shift(dt.timedelta(minutes=3))
        assert heartbeats_detect(now=timezone.now()) == 1
        assert status_of(heartbeat) == Status.DEGRADED
        late = Flip.objects.get(new_status=Status.DEGRADED)
        assert late.cause == FlipCause.LATE
        assert (late.at, late.reason) == (
            self.START + dt.timedelta(hours=1),
            "late: the ping due at 2026-03-27 03:00:00 UTC has not come",
        )
        clock.shift(dt.timedelta(minutes=30))
        heartbeats_detect(now=timezone.now())
        missing = Flip.objects.get(new_status=Status.DOWN)
        assert (missing.at, missing.cause) == (self.START + dt.timedelta(hours=1, minutes=10), FlipCause.MISSING)
        assert missing.reason.startswith("missing: no ping since the one due at 2026-03-27 03:00:00 UTC")
        assert heartbeats_detect(now=timezone.now()) == 0  # nothing more to say until a ping
        send(heartbeat)
        assert status_of(heartbeat) == Status.UP
        assert Flip.objects.latest("at").cause == FlipCause.RECOVERED

    def test_a_nightly_cron_job_across_the_dst_night_is_not_late(self, clock):
        """03:00 Berlin every night: the night clocks go forward has only 23 hours."""
        heartbeat = HeartbeatFactory(schedule="cron", cron="0 3 * * *", time_zone="Europe/Berlin", grace_seconds=900)
        clock.move_to(local(2026, 3, 28, 3, 1))
        send(heartbeat)
        clock.move_to(local(2026, 3, 29, 3, 1))  # 23 h later in real time
        send(heartbeat)
        clock.move_to(local(2026, 3, 29, 3, 14))
        heartbeats_detect(now=timezone.now())
        assert status_of(heartbeat) == Status.UP
        clock.move_to(local(2026, 3, 30, 3, 20))  # the next run did not come
        heartbeats_detect(now=timezone.now())
        assert status_of(heartbeat) == Status.DOWN
        assert Flip.objects.get(new_status=Status.DOWN).at == local(2026, 3, 30, 3, 15)

    def test_a_run_over_max_runtime_is_down_at_its_deadline(self, clock):
        heartbeat = HeartbeatFactory(period_seconds=86400, max_runtime_seconds=600)
        send(heartbeat)
        send(heartbeat, HeartbeatPing.Kind.START)
        clock.shift(dt.timedelta(minutes=11))
        heartbeats_detect(now=timezone.now())
        flip = Flip.objects.get(new_status=Status.DOWN)
        assert (flip.at, flip.cause) == (self.START + dt.timedelta(minutes=10), FlipCause.OVER_RUNTIME)
        assert "still going after max_runtime 600 s" in flip.reason

    def test_a_finish_reports_its_duration_and_too_fast_or_too_slow_runs(self, clock):
        heartbeat = HeartbeatFactory(period_seconds=86400, min_runtime_seconds=60, max_runtime_seconds=3600)
        send(heartbeat, HeartbeatPing.Kind.START)
        clock.shift(5)
        send(heartbeat)
        assert HeartbeatPing.objects.latest("id").duration_ms == 5000
        assert Flip.objects.get().reason == "the run took 5 s, under min_runtime 60 s"
        assert Flip.objects.get().cause == FlipCause.UNDER_RUNTIME
        send(heartbeat, HeartbeatPing.Kind.START)
        clock.shift(120)
        send(heartbeat)
        assert status_of(heartbeat) == Status.UP
        send(heartbeat, HeartbeatPing.Kind.START)
        clock.shift(4000)
        send(heartbeat)
        assert Flip.objects.latest("at").reason == "the run took 4000 s, over max_runtime 3600 s"
        assert Flip.objects.latest("at").cause == FlipCause.OVER_RUNTIME

    def test_rid_pairs_overlapping_runs(self, clock):
        heartbeat = HeartbeatFactory(period_seconds=86400)
        send(heartbeat, HeartbeatPing.Kind.START, rid="run-a")
        clock.shift(10)
        send(heartbeat, HeartbeatPing.Kind.START, rid="run-b")
        clock.shift(5)
        send(heartbeat, rid="run-a")
        clock.shift(30)
        send(heartbeat, rid="run-b")
        durations = list(
            HeartbeatPing.objects.filter(kind=HeartbeatPing.Kind.SUCCESS)
            .order_by("id")
            .values_list("rid", "duration_ms")
        )
        assert durations == [("run-a", 15000), ("run-b", 35000)]

    def test_a_paused_heartbeat_is_never_flagged(self, clock):
        heartbeat = HeartbeatFactory(period_seconds=3600, grace_seconds=600)
        send(heartbeat)
        targets_pause(target_ids=[heartbeat.pk], at=timezone.now())
        clock.shift(dt.timedelta(days=2))
        assert heartbeats_detect(now=timezone.now()) == 0
        send(heartbeat)  # pings are still kept, the status stays paused
        assert status_of(heartbeat) == Status.PAUSED
        assert HeartbeatPing.objects.count() == 2

    def test_a_never_pinged_heartbeat_stays_unknown(self, clock):
        heartbeat = HeartbeatFactory()
        clock.shift(dt.timedelta(days=3))
        assert heartbeats_detect(now=timezone.now()) == 0
        assert status_of(heartbeat) == Status.UNKNOWN
