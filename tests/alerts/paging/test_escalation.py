"""Escalation under frozen time: steps page at their delays, stop on ack, repeat, page once."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from alerts.delivery.services.sending import notifications_deliver
from alerts.incidents.services.incidents import alerts_receive, incident_acknowledge, incident_snooze
from alerts.incidents.services.rounds import incidents_notify_due
from alerts.models import Channel, Incident, IncidentEvent, Notification
from alerts.paging.services.escalation import escalations_advance
from tests.alerts.paging.factories import (
    T0,
    ChannelFactory,
    LayerFactory,
    PolicyFactory,
    firing,
    make_integration,
    step,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


def open_incident(policy, *, at=T0, dedup_key="ext:1"):
    integration = make_integration(escalation_policy=policy).integration
    [incident] = alerts_receive(signals=[firing(integration=integration, dedup_key=dedup_key, at=at)], now=at)
    return Incident.objects.get(pk=incident.pk)


def escalations(incident):
    return list(IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.ESCALATED).order_by("at", "id"))


def paged_channels(event):
    return sorted(n.channel.name for n in Notification.objects.filter(event=event).select_related("channel"))


@pytest.fixture
def policy():
    """Ops channel at once; bob (own Slack channel) after 10 min; the on-call person 5 min later."""
    bob = UserFactory(username="bob")
    UserFactory(username="alice", email="alice@example.com")
    ChannelFactory(name="bob-slack", kind=Channel.Kind.SLACK, user=bob, config={"url_env": "BOB_SLACK"})
    layer = LayerFactory(users=["alice"])
    made = PolicyFactory(name="Primary")
    step(made, order=0, delay=0, channels=[ChannelFactory(name="ops")])
    step(made, order=1, delay=10, users=[bob])
    step(made, order=2, delay=5, schedule=layer.schedule)
    return made


def test_opening_freezes_the_policy_and_schedules_step_one(policy):
    incident = open_incident(policy)
    assert incident.next_escalation_at == T0
    assert [s["delay_minutes"] for s in incident.escalation_snapshot] == [0, 10, 5]
    policy.steps.all().delete()  # editing the policy later does not move this incident's pages
    assert escalations_advance(now=T0) == 1
    assert paged_channels(escalations(incident)[0]) == ["ops"]


def test_steps_page_at_their_delays_until_the_last(policy):
    incident = open_incident(policy)
    assert escalations_advance(now=T0) == 1
    assert escalations_advance(now=T0 + 9 * MIN) == 0
    assert escalations_advance(now=T0 + 10 * MIN) == 1
    assert escalations_advance(now=T0 + 14 * MIN) == 0
    assert escalations_advance(now=T0 + 15 * MIN) == 1
    assert escalations_advance(now=T0 + 15 * MIN) == 0  # the same step is never paged twice
    assert escalations_advance(now=T0 + 600 * MIN) == 0  # and after the last step, nothing more
    first, second, third = escalations(incident)
    assert (first.at, second.at, third.at) == (T0, T0 + 10 * MIN, T0 + 15 * MIN)
    assert paged_channels(second) == ["bob-slack"] and second.data["usernames"] == ["bob"]
    assert "paging bob" in second.message
    assert third.data["usernames"] == ["alice"]  # on call in the step's schedule
    assert paged_channels(third) == ["Email to alice"]
    incident.refresh_from_db()
    assert incident.next_escalation_at is None and incident.escalation_level == 3


def test_acknowledging_stops_escalation(policy):
    incident = open_incident(policy)
    escalations_advance(now=T0)
    incident_acknowledge(incident=incident, actor=None, now=T0 + 2 * MIN)
    assert escalations_advance(now=T0 + 30 * MIN) == 0
    assert len(escalations(incident)) == 1


def test_a_tick_that_finds_the_incident_acknowledged_does_not_page(policy):
    incident = open_incident(policy)
    # As if an ack committed between the tick's read of due ids and its claim.
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.ACKNOWLEDGED)
    assert escalations_advance(now=T0) == 0
    assert escalations(incident) == []


def test_the_policy_repeats_when_nobody_acknowledges():
    policy = PolicyFactory(repeat=2)
    step(policy, delay=0, channels=[ChannelFactory(name="ops")])
    incident = open_incident(policy)
    times = []
    for minute in range(0, 40):
        if escalations_advance(now=T0 + minute * MIN):
            times.append(minute)
    assert times == [0, 5, 10]  # a repeat waits at least 5 minutes, then the policy is done
    assert [e.data["round"] for e in escalations(incident)] == [1, 2, 3]
    assert "round 2" in escalations(incident)[1].message


def test_user_without_channels_is_emailed_through_the_email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    carol = UserFactory(username="carol", email="carol@example.com")
    policy = PolicyFactory()
    step(policy, users=[carol])
    incident = open_incident(policy)
    escalations_advance(now=T0)
    open_incident_2 = open_incident(policy, dedup_key="ext:2")
    escalations_advance(now=T0)
    assert Channel.objects.filter(user=carol).count() == 1  # made once, reused
    ids = list(Notification.objects.filter(incident__in=[incident, open_incident_2]).values_list("pk", flat=True))
    assert notifications_deliver(notification_ids=ids, now=T0) == 2
    assert [m.to for m in mail.outbox] == [["carol@example.com"], ["carol@example.com"]]
    assert "API down" in mail.outbox[0].subject + mail.outbox[0].body


def test_a_user_nobody_can_reach_is_named_in_the_timeline():
    dan = UserFactory(username="dan", email="")
    policy = PolicyFactory()
    step(policy, users=[dan])
    incident = open_incident(policy)
    escalations_advance(now=T0)
    [event] = escalations(incident)
    assert "no channel or email for dan" in event.message
    assert Notification.objects.filter(event=event).count() == 0


def test_a_snoozed_incident_resumes_escalation_when_the_snooze_ends(policy):
    incident = open_incident(policy)
    escalations_advance(now=T0)
    actor = UserFactory(username="sam")
    incident_snooze(incident=incident, actor=actor, until=T0 + 60 * MIN, now=T0 + MIN)
    assert escalations_advance(now=T0 + 30 * MIN) == 0
    incidents_notify_due(now=T0 + 60 * MIN)  # the grouping tick ends the snooze
    assert escalations_advance(now=T0 + 60 * MIN) == 1
    assert [e.data["step"] for e in escalations(incident)] == [1, 1]  # from the first step again


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_page_each_step_once():
    policy = PolicyFactory()
    step(policy, channels=[ChannelFactory(name="ops")])
    incidents = [open_incident(policy, dedup_key=f"ext:{n}") for n in range(20)]
    barrier, results = threading.Barrier(4), []

    def tick():
        try:
            barrier.wait()
            results.append(escalations_advance(now=T0))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 20
    assert IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ESCALATED).count() == 20
    assert Notification.objects.filter(incident__in=incidents).count() == 20


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_tick_during_an_acknowledgement_does_not_page():
    from django.db import transaction

    policy = PolicyFactory()
    step(policy, channels=[ChannelFactory(name="ops")])
    incident = open_incident(policy)
    during = []

    def tick():
        try:
            during.append(escalations_advance(now=T0))
        finally:
            connection.close()

    with transaction.atomic():
        incident_acknowledge(incident=incident, actor=None, now=T0)  # holds the row until commit
        thread = threading.Thread(target=tick)
        thread.start()
        thread.join(timeout=30)
    assert during == [0]
    assert escalations_advance(now=T0) == 0
    assert escalations(incident) == []


def test_a_round_without_channels_says_which_escalation_step_paged_whom(policy):
    # The incident has no channels of its own: it pages only through escalation. Its timeline
    # says so, not "no channels to notify".
    incident = open_incident(policy)
    escalations_advance(now=T0)
    incidents_notify_due(now=T0 + 10 * MIN)
    notified = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.NOTIFIED)
    assert "no channels to notify" not in notified.message
    assert notified.message.endswith("(no channels of its own; paged through escalation Primary: Step 1: paging #ops)")
