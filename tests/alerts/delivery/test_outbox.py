"""Outbox rows: one per event and channel, muted ones kept with their reason, workers nudged after commit."""

import pytest
from celery import current_app

from alerts.delivery.services.outbox import DELIVER_TASK, notifications_create
from alerts.models import Notification
from tests.alerts.delivery.factories import ChannelFactory, IncidentEventFactory

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
