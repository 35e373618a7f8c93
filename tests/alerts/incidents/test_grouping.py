"""Notification timing, Alertmanager's way, as a timeline: signals go in at given times, the
ticks run under frozen time, and the rounds that come out are checked."""

import datetime as dt

import pytest
import time_machine
from celery import current_app

from alerts.incidents.services.incidents import alerts_receive, incident_acknowledge, incident_resolve, incident_snooze
from alerts.incidents.services.noise import silence_create, silence_expire
from alerts.incidents.services.rounds import incident_notify, incidents_notify_due
from alerts.incidents.tasks import notify_due_incidents
from alerts.models import Incident, IncidentEvent, Notification
from tests.alerts.incidents.factories import T0, ChannelFactory, RuleFactory, firing, resolved
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = dt.timedelta(seconds=1)


@pytest.fixture
def rule():
    rule = RuleFactory(group_wait_seconds=30, group_interval_seconds=300, repeat_interval_seconds=3600)
    rule.channels.set([ChannelFactory(name="slack-alerts"), ChannelFactory(name="email-oncall")])
    return rule


def rounds():
    """What the channels were told, in order: (kind, why or reason, alert count, at)."""
    return [
        (e.kind, e.data.get("why") or e.data.get("reason"), len(e.data["alerts"]), e.at)
        for e in IncidentEvent.objects.filter(kind__in=["notified", "muted"])
    ]


def tick(at):
    return incidents_notify_due(now=at)


def test_group_wait_batches_alerts_that_arrive_meanwhile_into_one_notification(rule):
    alerts_receive(signals=[firing(rule, fingerprint="a")], now=T0)
    alerts_receive(signals=[firing(rule, fingerprint="b")], now=T0 + 10 * S)
    alerts_receive(signals=[firing(rule, fingerprint="c")], now=T0 + 29 * S)
    assert tick(T0 + 29 * S) == 0
    assert tick(T0 + 30 * S) == 1
    assert rounds() == [("notified", "first", 3, T0 + 30 * S)]
    outbox = Notification.objects.all()
    assert sorted(n.channel.name for n in outbox) == ["email-oncall", "slack-alerts"]
    assert {n.status for n in outbox} == {Notification.Status.PENDING}
    assert tick(T0 + 31 * S) == 0


def test_later_changes_are_told_at_most_once_per_group_interval(rule):
    alerts_receive(signals=[firing(rule, fingerprint="a")], now=T0)
    tick(T0 + 30 * S)
    alerts_receive(signals=[firing(rule, fingerprint="b")], now=T0 + 60 * S)
    alerts_receive(signals=[firing(rule, fingerprint="c")], now=T0 + 200 * S)
    assert tick(T0 + 329 * S) == 0
    tick(T0 + 330 * S)
    alerts_receive(signals=[resolved(firing(rule, fingerprint="a"))], now=T0 + 400 * S)
    assert Incident.objects.get().next_notify_at == T0 + 630 * S
    tick(T0 + 630 * S)
    assert rounds() == [
        ("notified", "first", 1, T0 + 30 * S),
        ("notified", "changed", 3, T0 + 330 * S),
        ("notified", "changed", 3, T0 + 630 * S),
    ]


def test_a_change_long_after_the_last_round_is_told_at_once(rule):
    alerts_receive(signals=[firing(rule, fingerprint="a")], now=T0)
    tick(T0 + 30 * S)
    alerts_receive(signals=[firing(rule, fingerprint="b")], now=T0 + 1000 * S)
    assert Incident.objects.get().next_notify_at == T0 + 1000 * S


def test_an_unchanged_firing_incident_is_told_again_after_the_repeat_interval(rule):
    alerts_receive(signals=[firing(rule)], now=T0)
    tick(T0 + 30 * S)
    for minute in range(1, 60):  # the evaluator keeps saying it fires: no news
        alerts_receive(signals=[firing(rule)], now=T0 + minute * 60 * S)
        assert tick(T0 + minute * 60 * S) == 0
    tick(T0 + 30 * S + 3600 * S)
    assert [r[:2] for r in rounds()] == [("notified", "first"), ("notified", "repeat")]
    assert Incident.objects.get().next_notify_at == T0 + 30 * S + 7200 * S


def test_an_acknowledged_incident_is_not_repeated_but_its_resolution_is_told(rule):
    signal = firing(rule)
    (incident,) = alerts_receive(signals=[signal], now=T0)
    tick(T0 + 30 * S)
    incident_acknowledge(incident=incident, actor=UserFactory(), now=T0 + 60 * S)
    tick(T0 + 3630 * S)
    assert len(rounds()) == 1
    alerts_receive(signals=[resolved(signal)], now=T0 + 4000 * S)
    assert tick(T0 + 4000 * S) == 1
    assert [r[:2] for r in rounds()] == [("notified", "first"), ("notified", "resolved")]
    assert Incident.objects.get().next_notify_at is None


def test_the_resolution_waits_for_the_group_interval_like_any_change(rule):
    signal = firing(rule)
    alerts_receive(signals=[signal], now=T0)
    tick(T0 + 30 * S)
    alerts_receive(signals=[resolved(signal)], now=T0 + 100 * S)
    assert Incident.objects.get().status == Incident.Status.RESOLVED
    assert tick(T0 + 329 * S) == 0
    tick(T0 + 330 * S)
    assert rounds()[-1] == ("notified", "resolved", 1, T0 + 330 * S)
    assert IncidentEvent.objects.get(kind="notified", data__why="resolved").message == "resolved (1 alert)"


def test_an_incident_resolved_within_group_wait_tells_nobody(rule):
    signal = firing(rule)
    alerts_receive(signals=[signal], now=T0)
    alerts_receive(signals=[resolved(signal)], now=T0 + 10 * S)
    tick(T0 + 30 * S)
    assert rounds() == []
    assert not Notification.objects.exists()
    assert Incident.objects.get().next_notify_at is None


def test_a_person_resolving_is_told_to_the_channels(rule):
    (incident,) = alerts_receive(signals=[firing(rule)], now=T0)
    tick(T0 + 30 * S)
    incident_resolve(incident=incident, actor=UserFactory(), now=T0 + 1000 * S)
    tick(T0 + 1000 * S)
    assert rounds()[-1][:2] == ("notified", "resolved")


def test_a_muted_round_is_in_the_timeline_with_its_reason_and_never_sent(rule):
    person = UserFactory()
    silence = silence_create(
        matchers=f'{{alertname="{rule.name}"}}',
        starts_at=T0 - 60 * S,
        ends_at=T0 + 3600 * S,
        created_by=person,
        comment="deploying the new API",
    )
    alerts_receive(signals=[firing(rule)], now=T0)
    tick(T0 + 30 * S)
    (muted,) = IncidentEvent.objects.filter(kind="muted")
    assert "deploying the new API" in muted.message and muted.data["reason"] == muted.message
    outbox = Notification.objects.all()
    assert outbox.count() == 2
    assert {(n.status, n.muted_reason) for n in outbox} == {(Notification.Status.MUTED, muted.message)}
    tick(T0 + 330 * S)  # still muted: looked at again, not written again
    assert IncidentEvent.objects.filter(kind="muted").count() == 1
    silence_expire(silence=silence, now=T0 + 400 * S)
    tick(T0 + 630 * S)
    assert [r[0] for r in rounds()] == ["muted", "notified"]
    assert Notification.objects.filter(status=Notification.Status.PENDING).count() == 2


def test_a_round_is_muted_only_when_every_alert_in_it_is(rule):
    silence_create(
        matchers='{service="search"}',
        starts_at=T0,
        ends_at=T0 + 3600 * S,
        created_by=UserFactory(),
        comment="reindexing",
    )
    alerts_receive(
        signals=[
            firing(rule, fingerprint="a", labels={"service": "search"}),
            firing(rule, fingerprint="b", labels={"service": "api"}),
        ],
        now=T0,
    )
    tick(T0 + 30 * S)
    assert [r[0] for r in rounds()] == ["notified"]


def test_a_snoozed_incident_comes_back_when_the_snooze_ends(rule):
    (incident,) = alerts_receive(signals=[firing(rule)], now=T0)
    tick(T0 + 30 * S)
    incident_snooze(incident=incident, actor=UserFactory(), until=T0 + 1800 * S, now=T0 + 60 * S)
    alerts_receive(signals=[firing(rule, fingerprint="b")], now=T0 + 600 * S)
    assert tick(T0 + 1799 * S) == 0
    tick(T0 + 1800 * S)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.snoozed_until is None
    assert [r[:2] for r in rounds()] == [("notified", "first"), ("notified", "changed")]


def test_a_round_is_claimed_once_however_many_ticks_run(rule):
    (incident,) = alerts_receive(signals=[firing(rule)], now=T0)
    assert incident_notify(incident_id=incident.pk, now=T0 + 30 * S) is True
    assert incident_notify(incident_id=incident.pk, now=T0 + 30 * S) is False
    assert len(rounds()) == 1


def test_the_beat_task_sends_what_is_due_now(rule):
    alerts_receive(signals=[firing(rule)], now=T0)
    with time_machine.travel(T0 + 31 * S, tick=False):
        assert notify_due_incidents() == 1
    assert len(rounds()) == 1


def test_a_round_reads_noise_control_once_however_many_alerts_it_holds(rule, django_assert_max_num_queries):
    from alerts.models import InhibitRule

    InhibitRule.objects.create(
        name="crit",
        source_matchers=[{"name": "severity", "value": "critical"}],
        target_matchers=[{"name": "severity", "op": "!=", "value": "critical"}],
        equal=["target_id"],
    )
    alerts_receive(signals=[firing(rule, fingerprint=f"fp-{n}", labels={"target_id": "7"}) for n in range(40)], now=T0)
    with django_assert_max_num_queries(16):
        assert tick(T0 + 30 * S) == 1
    assert rounds() == [("notified", "first", 40, T0 + 30 * S)]


def test_a_round_due_at_once_wakes_the_notify_worker_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kwargs: sent.append(name))
    waiting = RuleFactory(group_wait_seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_receive(signals=[firing(waiting, fingerprint="a")], now=T0)
    assert sent == []  # its round is 30 s away: the tick will find it
    at_once = RuleFactory(group_wait_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_receive(signals=[firing(at_once, fingerprint="b")], now=T0)
    assert sent == ["incidents.notify_due"]
