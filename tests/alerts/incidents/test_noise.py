"""Silences, maintenance windows, inhibition and dependencies: what mutes an alert, and why."""

import datetime as dt
import importlib
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from alerts.incidents.services.incidents import alerts_receive
from alerts.incidents.services.noise import (
    maintenance_pause_tick,
    maintenance_validate,
    mute_reason,
    silence_create,
    silence_expire,
    silence_validate,
    window_occurrences,
)
from alerts.models import InhibitRule, MaintenanceWindow, Silence, TargetDependency
from monitoring.models import Status, Tag, Target
from monitoring.uptime.services.actions import targets_pause
from tests.alerts.incidents.factories import T0, RuleFactory, firing
from tests.factories import ProjectFactory, UserFactory
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
H = dt.timedelta(hours=1)
DEFAULT_INHIBIT_RULE = importlib.import_module("alerts.migrations.0002_incidents").DEFAULT_RULE


def window(**kwargs):
    defaults = {"name": "nightly", "starts_at": T0, "duration_minutes": 60}
    return MaintenanceWindow.objects.create(**{**defaults, **kwargs})


# --- silences ---------------------------------------------------------------------------------


def test_a_silence_mutes_matching_alerts_from_its_start_until_its_end():
    silence = silence_create(
        matchers='{service="api", env=~"prod|staging"}',
        starts_at=T0,
        ends_at=T0 + H,
        created_by=UserFactory(),
        comment="DB migration",
    )
    labels = {"service": "api", "env": "prod"}
    assert mute_reason(labels=labels, now=T0 - dt.timedelta(seconds=1)) is None
    assert "DB migration" in mute_reason(labels=labels, now=T0)
    assert mute_reason(labels={"service": "api", "env": "dev"}, now=T0) is None
    assert mute_reason(labels=labels, now=T0 + H) is None
    assert silence.matchers == [
        {"name": "service", "op": "=", "value": "api"},
        {"name": "env", "op": "=~", "value": "prod|staging"},
    ]


def test_expiring_a_silence_ends_it_now_even_before_it_started():
    person = UserFactory()
    running = silence_create(matchers='{a="b"}', starts_at=T0, ends_at=T0 + H, created_by=person, comment="x")
    future = silence_create(
        matchers='{a="b"}', starts_at=T0 + 2 * H, ends_at=T0 + 3 * H, created_by=person, comment="y"
    )
    silence_expire(silence=running, now=T0 + dt.timedelta(minutes=5))
    silence_expire(silence=future, now=T0 + dt.timedelta(minutes=5))
    assert mute_reason(labels={"a": "b"}, now=T0 + dt.timedelta(minutes=5)) is None
    future.refresh_from_db()
    assert future.starts_at < future.ends_at == T0 + dt.timedelta(minutes=5)


def test_a_bad_silence_gets_an_error_on_each_field_it_got_wrong():
    with pytest.raises(ValidationError) as caught:
        silence_validate(matchers='{env=~"(prod"}', starts_at=T0, ends_at=T0, created_by=None, comment=" ")
    errors = caught.value.message_dict
    assert set(errors) == {"matchers", "ends_at", "created_by", "comment"}
    assert "not a valid regular expression" in errors["matchers"][0]
    with pytest.raises(ValidationError) as caught:
        silence_validate(matchers="{}", starts_at=T0, ends_at=None, created_by=UserFactory(), comment="x")
    assert "mute everything" in caught.value.message_dict["matchers"][0]
    assert "always ends" in caught.value.message_dict["ends_at"][0]
    assert not Silence.objects.exists()


# --- maintenance windows ----------------------------------------------------------------------


def test_a_one_off_window_mutes_its_project_while_it_lasts():
    project = ProjectFactory(slug="shop")
    window(project=project, starts_at=T0, duration_minutes=30)
    assert "maintenance nightly" in mute_reason(labels={"project": "shop"}, now=T0 + dt.timedelta(minutes=10))
    assert mute_reason(labels={"project": "blog"}, now=T0 + dt.timedelta(minutes=10)) is None
    assert mute_reason(labels={"project": "shop"}, now=T0 + dt.timedelta(minutes=30)) is None


def test_a_window_scoped_to_a_tag_or_target_mutes_only_their_alerts():
    tagged, other, single = TargetFactory(), TargetFactory(), TargetFactory()
    tag = Tag.objects.create(name="payments")
    tagged.tags.add(tag)
    window(name="psp", tag=tag)
    window(name="one box", target=single)
    now = T0 + dt.timedelta(minutes=1)
    assert "psp" in mute_reason(labels={"target_id": str(tagged.pk)}, now=now)
    assert "one box" in mute_reason(labels={"target_id": str(single.pk)}, now=now)
    assert mute_reason(labels={"target_id": str(other.pk)}, now=now) is None


def utc(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("recurrence", "expression"),
    [
        ("cron", "30 3 * * SUN"),
        ("rrule", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=3;BYMINUTE=30"),
    ],
)
def test_recurring_windows_keep_their_local_time_across_the_dst_change_in_berlin(recurrence, expression):
    """Berlin moves from UTC+1 to UTC+2 on 29 March 2026: 03:30 local is 02:30 UTC before, 01:30 after."""
    nightly = window(
        recurrence=recurrence,
        expression=expression,
        time_zone="Europe/Berlin",
        starts_at=dt.datetime(2026, 3, 1, 3, 30, tzinfo=BERLIN),
        duration_minutes=45,
        until=dt.datetime(2026, 4, 6, tzinfo=BERLIN),
    )
    found = window_occurrences(window=nightly, start=utc(2026, 3, 20, 0), end=utc(2026, 4, 30, 0))
    assert [o.starts_at for o in found] == [utc(2026, 3, 22, 2, 30), utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 1, 30)]
    assert all(o.ends_at - o.starts_at == dt.timedelta(minutes=45) for o in found)
    assert mute_reason(labels={}, now=utc(2026, 3, 29, 1, 40)) is not None
    assert mute_reason(labels={}, now=utc(2026, 3, 29, 2, 40)) is None  # 03:30 UTC+1 would have been now


def test_a_window_that_started_before_the_range_and_is_still_open_is_found():
    nightly = window(recurrence="cron", expression="0 22 * * *", duration_minutes=240)
    (occurrence,) = window_occurrences(window=nightly, start=utc(2026, 3, 5, 1), end=utc(2026, 3, 5, 2))
    assert occurrence.starts_at == utc(2026, 3, 4, 22)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"recurrence": "cron", "expression": "61 * * * *"}, "expression", "Not a valid cron expression"),
        ({"recurrence": "cron", "expression": ""}, "expression", "needs a cron expression"),
        ({"recurrence": "rrule", "expression": "FREQ=SOMETIMES"}, "expression", "Not a valid RRULE"),
        (
            {"recurrence": "rrule", "expression": "DTSTART:20260101T000000\nRRULE:FREQ=DAILY"},
            "expression",
            "Not a valid RRULE",
        ),
        ({"recurrence": "rrule", "expression": "FREQ=MINUTELY;INTERVAL=5"}, "expression", "at most hourly"),
        ({"recurrence": "once", "expression": "0 2 * * *"}, "expression", "has no expression"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known time zone"),
        ({"duration_minutes": 0}, "duration_minutes", "at least a minute"),
        ({"until": T0 - H}, "until", "after the first start"),
    ],
)
def test_a_bad_window_is_a_field_error(fields, field, says):
    values = {
        "recurrence": "once",
        "expression": "",
        "time_zone": "UTC",
        "starts_at": T0,
        "until": None,
        "duration_minutes": 60,
        **fields,
    }
    with pytest.raises(ValidationError) as caught:
        maintenance_validate(**values)
    assert says in caught.value.message_dict[field][0]


def test_a_pause_window_pauses_its_targets_and_resumes_only_those_it_paused():
    project = ProjectFactory()
    running, paused_by_a_person = TargetFactory(project=project), TargetFactory(project=project)
    elsewhere = TargetFactory()
    targets_pause(target_ids=[paused_by_a_person.pk], at=T0 - H, by="alice")
    maintenance = window(project=project, effect="pause", starts_at=T0, duration_minutes=60)

    assert maintenance_pause_tick(now=T0 - dt.timedelta(minutes=1)) == {"paused": 0, "resumed": 0}
    assert maintenance_pause_tick(now=T0 + dt.timedelta(minutes=1)) == {"paused": 1, "resumed": 0}
    assert maintenance_pause_tick(now=T0 + dt.timedelta(minutes=2)) == {"paused": 0, "resumed": 0}
    maintenance.refresh_from_db()
    assert maintenance.paused_target_ids == [running.pk]
    statuses = dict(Target.objects.values_list("pk", "status"))
    assert statuses[running.pk] == Status.PAUSED and statuses[elsewhere.pk] != Status.PAUSED

    assert maintenance_pause_tick(now=T0 + 61 * dt.timedelta(minutes=1)) == {"paused": 0, "resumed": 1}
    statuses = dict(Target.objects.values_list("pk", "status"))
    assert statuses[running.pk] == Status.UNKNOWN  # resumed: the next probe says how it is
    assert statuses[paused_by_a_person.pk] == Status.PAUSED
    maintenance.refresh_from_db()
    assert maintenance.paused_target_ids == []


def test_a_target_still_under_another_open_window_stays_paused():
    target = TargetFactory()
    short = window(name="short", target=target, effect="pause", starts_at=T0, duration_minutes=10)
    long = window(name="long", target=target, effect="pause", starts_at=T0, duration_minutes=60)
    maintenance_pause_tick(now=T0 + dt.timedelta(minutes=1))
    assert maintenance_pause_tick(now=T0 + dt.timedelta(minutes=20)) == {"paused": 0, "resumed": 0}
    target.refresh_from_db()
    assert target.paused
    short.refresh_from_db(), long.refresh_from_db()
    assert (short.paused_target_ids, long.paused_target_ids) == ([], [target.pk])
    maintenance_pause_tick(now=T0 + dt.timedelta(minutes=61))
    target.refresh_from_db()
    assert not target.paused


def test_a_pause_window_does_not_mute():
    window(effect="pause")
    assert mute_reason(labels={}, now=T0 + dt.timedelta(minutes=1)) is None


# --- inhibition and dependencies ---------------------------------------------------------------


def test_a_critical_alert_mutes_the_lesser_alerts_about_the_same_target():
    InhibitRule.objects.create(**DEFAULT_INHIBIT_RULE)
    api, shop = TargetFactory(), TargetFactory()
    down = firing(RuleFactory(name="TargetDown"), severity="critical", labels={"target_id": str(api.pk)})
    alerts_receive(signals=[down], now=T0)
    slow = {"alertname": "Latency", "severity": "high", "target_id": str(api.pk)}
    assert mute_reason(labels=slow, now=T0).startswith("inhibited by Critical mutes lesser alerts")
    assert "TargetDown (critical) is firing" in mute_reason(labels=slow, now=T0)
    assert mute_reason(labels={**slow, "target_id": str(shop.pk)}, now=T0) is None
    assert mute_reason(labels={"alertname": "ErrorRate", "severity": "high"}, now=T0) is None  # no target: unrelated
    assert mute_reason(labels=down.labels, now=T0) is None  # a critical is never inhibited by itself


def test_an_alert_is_muted_while_a_target_it_depends_on_is_down():
    database, api = TargetFactory(name="primary db"), TargetFactory()
    TargetDependency.objects.create(target=api, depends_on=database)
    labels = {"alertname": "ApiDown", "severity": "critical", "target_id": str(api.pk)}
    assert mute_reason(labels=labels, now=T0) is None
    Target.objects.filter(pk=database.pk).update(status=Status.DOWN)
    assert mute_reason(labels=labels, now=T0) == "depends on primary db, which is down"
    assert mute_reason(labels={"target_id": str(database.pk)}, now=T0) is None


def test_the_beat_task_applies_pause_windows_now():
    import time_machine

    from alerts.incidents.tasks import apply_maintenance_pauses

    target = TargetFactory()
    window(target=target, effect="pause")
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        assert apply_maintenance_pauses() == {"paused": 1, "resumed": 0}
    target.refresh_from_db()
    assert target.paused
