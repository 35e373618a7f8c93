"""The outbox worker under frozen time: claim, send, log, retry with backoff, fail, recover."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from alerts.delivery.services.sending import notification_deliver, notifications_deliver, notifications_deliver_due
from alerts.models import Channel, DeliveryAttempt, Incident, IncidentEvent, Notification
from tests.alerts.delivery.factories import ChannelFactory, make_notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hook(sink):
    return ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, name="ops hook")


def refreshed(notification):
    notification.refresh_from_db()
    return notification


def test_a_row_is_delivered_once_with_its_idempotency_key_and_logged(sink, hook, frozen):
    notification = make_notification(hook, now=T0)

    assert notifications_deliver(notification_ids=[notification.pk], now=T0) == 1
    assert notifications_deliver(notification_ids=[notification.pk], now=T0) == 0  # already delivered

    notification = refreshed(notification)
    assert notification.status == Notification.Status.DELIVERED
    assert (notification.delivered_at, notification.attempts, notification.lease_until) == (T0, 1, None)
    (received,) = sink.requests
    assert received.headers["idempotency-key"] == notification.idempotency_key
    (attempt,) = DeliveryAttempt.objects.all()
    assert (attempt.notification, attempt.channel, attempt.ok, attempt.status_code) == (notification, hook, True, 200)
    assert attempt.response_excerpt == '{"ok": true}' and attempt.duration_ms is not None
    hook.refresh_from_db()
    assert hook.last_delivered_at == T0 and hook.consecutive_failures == 0


def test_failures_retry_with_exponential_backoff_and_jitter(sink, hook, frozen, settings):
    settings.ALERTS_DELIVERY_BACKOFF_SECONDS = 10
    sink.answer(503, 502, 500)
    notification = make_notification(hook, now=T0)
    now, delays = T0, []

    for _ in range(3):
        notifications_deliver_due(now=now)
        notification = refreshed(notification)
        assert notification.status == Notification.Status.PENDING
        delays.append((notification.next_attempt_at - now).total_seconds())
        # Not due before its time: a sweep just before it sends nothing.
        assert notifications_deliver_due(now=notification.next_attempt_at - timedelta(seconds=1)) == 0
        now = notification.next_attempt_at
        frozen.move_to(now)

    assert notifications_deliver_due(now=now) == 1
    # Each step doubles (10, 20, 40 s); jitter puts each retry in the second half of its step.
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert refreshed(notification).status == Notification.Status.DELIVERED
    log = list(DeliveryAttempt.objects.filter(notification=notification).order_by("at", "id"))
    assert [a.status_code for a in log] == [503, 502, 500, 200]
    assert [a.ok for a in log] == [False, False, False, True]
    assert log[0].error == "HTTP 503"
    assert len({r.headers["idempotency-key"] for r in sink.requests}) == 1


def test_backoff_is_capped(sink, hook, frozen, settings):
    settings.ALERTS_DELIVERY_BACKOFF_SECONDS = 10
    settings.ALERTS_DELIVERY_BACKOFF_CAP_SECONDS = 60
    sink.answer(*[503] * 6)
    notification = make_notification(hook, now=T0)
    now = T0
    for _ in range(6):
        notifications_deliver_due(now=now)
        notification = refreshed(notification)
        delay = (notification.next_attempt_at - now).total_seconds()
        now = notification.next_attempt_at
    assert 30 <= delay <= 60


def test_retry_after_from_the_receiver_is_respected(sink, hook, frozen):
    sink.answer(429)
    sink.extra_headers = {"Retry-After": "120"}
    notification = make_notification(hook, now=T0)

    notifications_deliver_due(now=T0)

    assert refreshed(notification).next_attempt_at >= T0 + timedelta(seconds=120)


def test_out_of_attempts_the_row_fails_and_the_timeline_says_so(sink, hook, frozen, settings):
    settings.ALERTS_DELIVERY_MAX_ATTEMPTS = 2
    sink.answer(503, 503, 503)
    notification = make_notification(hook, now=T0)

    notifications_deliver_due(now=T0)
    notifications_deliver_due(now=refreshed(notification).next_attempt_at)

    notification = refreshed(notification)
    assert (notification.status, notification.attempts, notification.next_attempt_at) == (
        Notification.Status.FAILED,
        2,
        None,
    )
    assert notification.last_error == "HTTP 503"
    (event,) = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.DELIVERY_FAILED)
    assert event.incident_id == notification.incident_id
    assert event.message == "ops hook: HTTP 503"
    assert event.data["attempts"] == 2 and event.data["status_code"] == 503
    assert notifications_deliver_due(now=T0 + timedelta(days=1)) == 0
    assert len(sink.requests) == 2


def test_a_permanent_error_fails_at_once(sink, hook, frozen):
    sink.answer(404)
    notification = make_notification(hook, now=T0)

    notifications_deliver_due(now=T0)

    notification = refreshed(notification)
    assert (notification.status, notification.attempts) == (Notification.Status.FAILED, 1)
    assert IncidentEvent.objects.filter(kind=IncidentEvent.Kind.DELIVERY_FAILED, data__permanent=True).exists()


def test_a_refused_address_fails_at_once_without_traffic(sink, frozen):
    channel = ChannelFactory(kind="webhook", config={"url": f"{sink.url}/hook"}, allow_private=False)
    notification = make_notification(channel, now=T0)

    notifications_deliver_due(now=T0)

    notification = refreshed(notification)
    assert notification.status == Notification.Status.FAILED
    assert "loopback address" in notification.last_error
    assert sink.requests == []


def test_a_row_held_by_a_worker_is_left_alone_until_its_lease_ends_then_resent_with_the_same_key(
    sink, hook, frozen, settings
):
    settings.ALERTS_DELIVERY_LEASE_SECONDS = 60
    notification = make_notification(hook, now=T0)
    # A worker claims it, and dies before it can settle: the row stays "sending".
    sink.answer(200)
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENDING,
        attempts=1,
        lease_until=T0 + timedelta(seconds=60),
        next_attempt_at=T0 + timedelta(seconds=60),
    )

    assert notification_deliver(notification_id=notification.pk, now=T0 + timedelta(seconds=30)) is None
    assert notifications_deliver_due(now=T0 + timedelta(seconds=30)) == 0
    assert notifications_deliver_due(now=T0 + timedelta(seconds=60)) == 1

    notification = refreshed(notification)
    assert (notification.status, notification.attempts) == (Notification.Status.DELIVERED, 2)
    (received,) = sink.requests
    assert received.headers["idempotency-key"] == notification.idempotency_key


def test_muted_rows_are_never_sent(sink, hook, frozen):
    from alerts.delivery.services.outbox import notifications_create
    from tests.alerts.delivery.factories import IncidentEventFactory

    event = IncidentEventFactory(at=T0)
    (muted,) = notifications_create(event=event, channels=[hook], now=T0, muted={hook.pk: "silenced by ops"})

    assert notifications_deliver(notification_ids=[muted.pk], now=T0) == 0
    assert notifications_deliver_due(now=T0 + timedelta(hours=1)) == 0
    assert refreshed(muted).status == Notification.Status.MUTED
    assert sink.requests == []


def test_a_disabled_channel_fails_its_rows_without_sending(sink, hook, frozen):
    notification = make_notification(hook, now=T0)
    Channel.objects.filter(pk=hook.pk).update(enabled=False)

    notifications_deliver_due(now=T0)

    assert refreshed(notification).status == Notification.Status.FAILED
    assert sink.requests == []
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0  # switched off is not failing


def test_a_channel_that_keeps_failing_raises_a_meta_alert_on_the_other_channels_and_resolves_it(
    sink, hook, frozen, settings
):
    settings.ALERTS_CHANNEL_FAILING_THRESHOLD = 3
    team = ChannelFactory(kind="email", config={"to": ["ops@example.com"]})
    ChannelFactory(kind="email", config={"to": ["me@example.com"]}, user=UserFactory())  # a person's pager
    ChannelFactory(kind="email", config={"to": ["old@example.com"]}, enabled=False)
    sink.answer(500, 500, 500, 500)
    rows = [make_notification(hook, now=T0) for _ in range(4)]

    notifications_deliver(notification_ids=[r.pk for r in rows[:2]], now=T0)
    assert not Incident.objects.filter(source=Incident.Source.META).exists()
    notifications_deliver(notification_ids=[r.pk for r in rows[2:]], now=T0)  # the 3rd and 4th failure

    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.failing_since) == (4, T0)
    (meta,) = Incident.objects.filter(source=Incident.Source.META)
    assert meta.status == Incident.Status.TRIGGERED
    assert list(meta.channels.all()) == [team]
    assert meta.labels["channel"] == "ops hook" and meta.labels["alertname"] == "NotificationChannelFailing"
    assert "failed 3 deliveries in a row: HTTP 500" in meta.title

    later = T0 + timedelta(minutes=5)
    frozen.move_to(later)
    notifications_deliver_due(now=later)  # the receiver is back

    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.failing_since, hook.last_delivered_at) == (0, None, later)
    meta.refresh_from_db()
    assert meta.status == Incident.Status.RESOLVED
    assert Incident.objects.filter(source=Incident.Source.META).count() == 1


def test_a_failing_meta_alert_never_breaks_delivery(sink, hook, frozen, settings, monkeypatch):
    import alerts.incidents.services.incidents

    def broken(**kwargs):
        raise RuntimeError("incident engine down")

    monkeypatch.setattr(alerts.incidents.services.incidents, "alerts_receive", broken)
    settings.ALERTS_CHANNEL_FAILING_THRESHOLD = 1
    sink.answer(500)
    notification = make_notification(hook, now=T0)

    notifications_deliver_due(now=T0)

    assert refreshed(notification).status == Notification.Status.PENDING  # scheduled for a retry as usual
    assert DeliveryAttempt.objects.filter(notification=notification, ok=False).count() == 1
