"""Outbox rows: one per event and channel, muted ones kept with their reason, workers nudged after commit;
each carries its message frozen as of the event, and a key derived from it."""

import json
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from alerts.delivery.services.outbox import DELIVER_TASK, idempotency_key, notifications_create
from alerts.delivery.services.sending import notification_deliver
from alerts.models import Channel, Incident, IncidentEvent, Notification
from tests.alerts.delivery.factories import (
    ChannelFactory,
    IncidentAlertFactory,
    IncidentEventFactory,
    IncidentFactory,
    make_notification,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kwargs: sent.append((name, kwargs)))
    return sent


def test_rows_are_written_once_per_event_and_channel_and_nudged_after_commit(
    sent_tasks, django_capture_on_commit_callbacks
):
    loud, quiet = ChannelFactory(), ChannelFactory()
    event = IncidentEventFactory()

    with django_capture_on_commit_callbacks(execute=True):
        rows = notifications_create(
            event=event, channels=[loud, quiet], now=event.at, muted={quiet.pk: "silenced: deploy window"}
        )
        assert sent_tasks == []  # nothing leaves before the rows are committed
        again = notifications_create(event=event, channels=[loud, quiet], now=event.at)

    assert sorted(r.pk for r in rows) == sorted(r.pk for r in again)
    assert Notification.objects.count() == 2
    by_channel = {r.channel_id: r for r in rows}
    assert by_channel[quiet.pk].status == Notification.Status.MUTED
    assert by_channel[quiet.pk].muted_reason == "silenced: deploy window"
    assert by_channel[loud.pk].idempotency_key != by_channel[quiet.pk].idempotency_key
    name, kwargs = sent_tasks[0]
    assert (name, kwargs) == (DELIVER_TASK, {"args": [[by_channel[loud.pk].pk]], "queue": "notify"})


def test_a_broker_that_is_down_does_not_fail_the_write(monkeypatch, django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(current_app, "send_task", down)
    event = IncidentEventFactory()

    with django_capture_on_commit_callbacks(execute=True):
        (row,) = notifications_create(event=event, channels=[ChannelFactory()], now=event.at)

    # The row waits for the delivery tick.
    assert Notification.objects.get(pk=row.pk).next_attempt_at == event.at


def test_the_message_is_frozen_when_the_row_is_written_and_the_key_names_it(sink, django_capture_on_commit_callbacks):
    hook = ChannelFactory(config={"url": f"{sink.url}/hook"})
    incident = IncidentFactory()
    IncidentAlertFactory(incident=incident)
    row = make_notification(hook, kind=IncidentEvent.Kind.NOTIFIED, incident=incident)
    assert row.payload["status"] == Incident.Status.TRIGGERED and row.payload["receiver"] == hook.name
    assert row.idempotency_key == idempotency_key(event_id=row.event_id, channel_id=hook.pk, payload=row.payload)
    assert row.idempotency_key != idempotency_key(event_id=row.event_id, channel_id=hook.pk)

    # Resolved (and renamed) before the first attempt: the round still says what it was written as.
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.RESOLVED)
    Channel.objects.filter(pk=hook.pk).update(name="renamed")
    notification_deliver(notification_id=row.pk, now=timezone.now())

    (received,) = sink.requests
    body = json.loads(received.body)
    assert (body["status"], body["receiver"]) == ("firing", row.payload["receiver"])
    assert received.headers["idempotency-key"] == row.idempotency_key


def test_a_row_written_before_freezing_is_frozen_at_its_first_claim_and_kept(sink):
    hook = ChannelFactory(config={"url": f"{sink.url}/hook"})
    row = make_notification(hook, kind=IncidentEvent.Kind.NOTIFIED)
    Notification.objects.filter(pk=row.pk).update(payload=None)
    sink.answer(503)

    now = timezone.now()
    notification_deliver(notification_id=row.pk, now=now)
    frozen = Notification.objects.get(pk=row.pk).payload
    assert frozen is not None and frozen["status"] == Incident.Status.TRIGGERED
    Incident.objects.filter(pk=row.incident_id).update(status=Incident.Status.RESOLVED)
    notification_deliver(notification_id=row.pk, now=now + timedelta(hours=1))

    assert Notification.objects.get(pk=row.pk).status == Notification.Status.DELIVERED
    first, second = sink.requests
    assert first.body == second.body and json.loads(second.body)["status"] == "firing"
