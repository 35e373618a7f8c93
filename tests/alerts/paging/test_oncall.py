"""Who is on call: rotations in local time across DST, daily restrictions, layers, overrides."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from alerts.models import OnCallOverride
from alerts.paging.services.schedules import layer_validate, oncall_shifts, oncall_users, time_zone_validate
from tests.alerts.paging.factories import T0, LayerFactory, ScheduleFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def berlin(*args):
    return dt.datetime(*args, tzinfo=BERLIN)


def names(users):
    return [u.username for u in users]


@pytest.fixture
def people():
    return {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave", "eve")}


def test_users_take_turns_from_the_start(people):
    layer = LayerFactory(users=["alice", "bob", "carol"], rotation_seconds=86400)
    at = lambda days, hours=0: T0 + dt.timedelta(days=days, hours=hours)  # noqa: E731
    assert names(oncall_users(schedule=layer.schedule, at=T0 - dt.timedelta(seconds=1))) == []
    assert names(oncall_users(schedule=layer.schedule, at=T0)) == ["alice"]
    assert names(oncall_users(schedule=layer.schedule, at=at(0, 23))) == ["alice"]
    assert names(oncall_users(schedule=layer.schedule, at=at(1))) == ["bob"]
    assert names(oncall_users(schedule=layer.schedule, at=at(2))) == ["carol"]
    assert names(oncall_users(schedule=layer.schedule, at=at(3))) == ["alice"]
    assert names(oncall_users(schedule=layer.schedule, at=at(302))) == ["carol"]


def test_weekly_handoff_stays_at_nine_local_across_spring_forward(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(schedule=schedule, users=["alice", "bob"], starts_at=berlin(2026, 3, 16, 9))
    # Berlin moves to summer time on Sunday 29 March: the 30 March hand-off is 07:00 UTC, not 08:00.
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 23, 8, 59))) == ["alice"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 23, 9))) == ["bob"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 30, 8, 59))) == ["bob"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 30, 9))) == ["alice"]
    assert berlin(2026, 3, 30, 9).astimezone(UTC).hour == 7

    shifts = oncall_shifts(schedule=schedule, start=berlin(2026, 3, 25, 12), count=3)
    assert [(names(s.users), s.starts_at.astimezone(BERLIN).strftime("%a %d %H:%M")) for s in shifts] == [
        (["bob"], "Wed 25 12:00"),
        (["alice"], "Mon 30 09:00"),
        (["bob"], "Mon 06 09:00"),
    ]
    assert shifts[1].ends_at - shifts[1].starts_at == dt.timedelta(days=7)
    assert shifts[0].ends_at == shifts[1].starts_at


def test_weekly_handoff_stays_at_nine_local_across_fall_back(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(schedule=schedule, users=["alice", "bob"], starts_at=berlin(2026, 10, 19, 9))
    shifts = oncall_shifts(schedule=schedule, start=berlin(2026, 10, 19, 9), count=2)
    # The week across 25 October is an hour longer: 169 hours, still handing off at 09:00.
    assert shifts[0].ends_at - shifts[0].starts_at == dt.timedelta(hours=169)
    assert shifts[1].starts_at.astimezone(BERLIN).hour == 9
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 10, 26, 8, 59))) == ["alice"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 10, 26, 9))) == ["bob"]


def test_daily_restriction_in_the_schedules_time_zone(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(
        schedule=schedule,
        users=["alice", "bob"],
        starts_at=berlin(2026, 3, 2, 0),
        rotation_seconds=86400,
        restrict_start=dt.time(9),
        restrict_end=dt.time(17),
    )
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 2, 8, 59))) == []
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 2, 9))) == ["alice"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 2, 16, 59))) == ["alice"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 2, 17))) == []
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 3, 10))) == ["bob"]
    shifts = oncall_shifts(schedule=schedule, start=berlin(2026, 3, 2, 7), count=2)
    assert [(names(s.users), s.starts_at, s.ends_at) for s in shifts] == [
        (["alice"], berlin(2026, 3, 2, 9), berlin(2026, 3, 2, 17)),
        (["bob"], berlin(2026, 3, 3, 9), berlin(2026, 3, 3, 17)),
    ]


def test_restriction_crossing_midnight(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(
        schedule=schedule,
        users=["dave"],
        starts_at=berlin(2026, 3, 1, 0),
        restrict_start=dt.time(22),
        restrict_end=dt.time(6),
    )
    for hour, expected in ((21, []), (22, ["dave"]), (23, ["dave"]), (0, ["dave"]), (5, ["dave"]), (6, []), (12, [])):
        assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, hour))) == expected, hour
    shift = oncall_shifts(schedule=schedule, start=berlin(2026, 3, 5, 12), count=1)[0]
    assert (shift.starts_at, shift.ends_at) == (berlin(2026, 3, 5, 22), berlin(2026, 3, 6, 6))


def test_higher_priority_layer_wins_where_it_has_someone(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(schedule=schedule, priority=0, users=["carol"], starts_at=berlin(2026, 3, 1, 0))
    LayerFactory(
        schedule=schedule,
        priority=5,
        users=["dave"],
        starts_at=berlin(2026, 3, 1, 0),
        restrict_start=dt.time(22),
        restrict_end=dt.time(6),
    )
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, 23))) == ["dave"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, 12))) == ["carol"]


def test_a_layer_whose_user_is_gone_leaves_it_to_the_next(people):
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, priority=0, users=["carol"])
    LayerFactory(schedule=schedule, priority=1, users=["ghost"])
    assert names(oncall_users(schedule=schedule, at=T0)) == ["carol"]
    people["carol"].is_active = False
    people["carol"].save()
    assert oncall_users(schedule=schedule, at=T0) == []


def test_overrides_win_over_layers(people):
    schedule = ScheduleFactory(time_zone="Europe/Berlin")
    LayerFactory(schedule=schedule, users=["carol"], starts_at=berlin(2026, 3, 1, 0))
    OnCallOverride.objects.create(
        schedule=schedule, user=people["eve"], starts_at=berlin(2026, 3, 5, 10), ends_at=berlin(2026, 3, 5, 12)
    )
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, 9, 59))) == ["carol"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, 11))) == ["eve"]
    assert names(oncall_users(schedule=schedule, at=berlin(2026, 3, 5, 12))) == ["carol"]
    shifts = oncall_shifts(schedule=schedule, start=berlin(2026, 3, 5, 8), count=3)
    assert [(names(s.users), s.starts_at.astimezone(BERLIN).hour) for s in shifts] == [
        (["carol"], 8),
        (["eve"], 10),
        (["carol"], 12),
    ]
    assert shifts[2].ends_at is None  # nothing changes within the horizon


def test_layer_validation_names_the_field(people):
    with pytest.raises(ValidationError) as exc:
        layer_validate(users=["alice", "nobody"], restrict_start=dt.time(9), restrict_end=None)
    assert exc.value.message_dict == {
        "users": ["no active user nobody"],
        "restrict_end": ["a daily restriction needs both a start and an end"],
    }
    with pytest.raises(ValidationError) as exc:
        layer_validate(users=["alice"], restrict_start=dt.time(9), restrict_end=dt.time(9))
    assert "restrict_end" in exc.value.message_dict
    layer_validate(users=["alice"], restrict_start=dt.time(22), restrict_end=dt.time(6))
    with pytest.raises(ValidationError) as exc:
        time_zone_validate("Mars/Olympus")
    assert "time_zone" in exc.value.message_dict
