"""Sending the outbox: claim a row, send it, log the attempt, then settle it.

A row is claimed as every outbox's rows are (services/leases.py: one conditional UPDATE that
takes a lease). A worker killed mid-send leaves a row that becomes due again, and the next
claim sends it with the same idempotency key, so the receiver can drop the repeat. Delivery
is at least once.

What is sent is the message frozen on the row when it was written, never one built from the
incident as it is at sending time: a retry that outlived the incident's resolve would
otherwise say "resolved" under the key of a "firing" round, and the receiver would drop the
resolve as a repeat. The key is derived from that frozen message (services/outbox.py).

Every attempt is written to the delivery log. Failures retry with exponential backoff and
jitter until the attempts run out; an error that cannot be fixed by retrying fails the row
at once. Either way the incident's timeline gets a "delivery failed" event. A channel that
fails ALERTS_CHANNEL_FAILING_THRESHOLD times in a row raises a meta-alert on the other
channels, resolved by its next successful delivery.
"""

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction

from alerts.delivery.messages import Message, message_test
from alerts.delivery.notifiers import NOTIFIERS, NotifierError, SendResult
from alerts.delivery.services.frozen import message_thaw
from alerts.delivery.services.leases import outbox_claim, outbox_due_ids
from alerts.delivery.services.outbox import notification_payload
from alerts.models import Channel, DeliveryAttempt, IncidentEvent, Notification, Severity

log = logging.getLogger(__name__)

ERROR_CHARS = 500
# A sweep stops claiming new rows after this long, well inside the task's time limit;
# what is left is due at the next tick.
SWEEP_BUDGET_SECONDS = 30.0


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    response_excerpt: str = ""
    duration_ms: int | None = None
    permanent: bool = False
    retry_after: int | None = None


def notifications_deliver_due(*, now: datetime, limit: int | None = None) -> int:
    """Send every due outbox row (new, retry due, or lease expired), up to `limit`; returns how many were delivered."""
    return notifications_deliver(notification_ids=outbox_due_ids(Notification, now=now, limit=limit), now=now)


def notifications_deliver(*, notification_ids: Iterable[int], now: datetime) -> int:
    """Send those of these rows that are due and not held by another worker; returns how many were delivered."""
    started = time.monotonic()
    delivered = 0
    for notification_id in notification_ids:
        if time.monotonic() - started > SWEEP_BUDGET_SECONDS:
            break
        notification = notification_deliver(notification_id=notification_id, now=now)
        delivered += bool(notification and notification.status == Notification.Status.DELIVERED)
    return delivered


def notification_deliver(*, notification_id: int, now: datetime) -> Notification | None:
    """Claim one row and send it; None when it is not due or another worker holds it."""
    if not outbox_claim(Notification, pk=notification_id, now=now):
        return None
    notification = (
        Notification.objects.select_related("channel", "incident", "event").filter(pk=notification_id).first()
    )
    if notification is None:  # its incident was deleted in the meantime
        return None
    channel = notification.channel
    if not channel.enabled:
        # Switched off on purpose: not a failure of the channel, so no meta-alert.
        outcome = _Outcome(ok=False, error="the channel is disabled", permanent=True)
        return _settle(notification, outcome, now=now, track_health=False)
    outcome = _send(channel, idempotency_key=notification.idempotency_key, build=lambda: _frozen_message(notification))
    return _settle(notification, outcome, now=now)


def _frozen_message(notification: Notification) -> Message:
    # Called inside _send, so a row that cannot be thawed or built is a failed attempt, not a stuck claim.
    payload = notification.payload if notification.payload is not None else _freeze_late(notification)
    return message_thaw(payload)


def _freeze_late(notification: Notification) -> dict[str, Any]:
    """A row written before messages were frozen: freeze it at its first claim, so at least
    every later attempt sends what this one does. The first claim to store it wins."""
    Notification.objects.filter(pk=notification.pk, payload__isnull=True).update(
        payload=notification_payload(event=notification.event, channel=notification.channel)
    )
    stored = Notification.objects.values_list("payload", flat=True).get(pk=notification.pk)
    assert isinstance(stored, dict)  # just written, or written by a claim that won the race
    return stored


def notification_retry(*, notification: Notification, now: datetime) -> bool:
    """Queue a failed row again with a fresh set of attempts (after its channel was fixed); False if not failed."""
    return bool(
        Notification.objects.filter(pk=notification.pk, status=Notification.Status.FAILED).update(
            status=Notification.Status.PENDING, attempts=0, next_attempt_at=now, last_error=""
        )
    )


def channel_send_test(*, channel: Channel, now: datetime) -> DeliveryAttempt:
    """Really send a test message through the channel and log it (with no outbox row behind it)."""
    outcome = _send(
        channel,
        idempotency_key=f"lookout-test-{channel.pk}-{now.timestamp():.0f}",
        build=lambda: message_test(channel_name=channel.name, now=now),
    )
    attempt = DeliveryAttempt.objects.create(notification=None, channel=channel, at=now, **_log_fields(outcome))
    if outcome.ok:
        # A test that got through proves the channel delivers, as a real send does; a failed
        # test leaves the failure count alone (it is no alert missed).
        Channel.objects.filter(pk=channel.pk).update(last_delivered_at=now)
        channel.last_delivered_at = now
    return attempt


def retry_delay(*, attempts: int, retry_after: int | None = None) -> timedelta:
    """Exponential backoff with jitter after `attempts` failed tries, at most the cap.

    The jitter spreads the retries of many rows that failed together (one receiver down)
    over the second half of each step, so they don't all come back at once.
    """
    base, cap = settings.ALERTS_DELIVERY_BACKOFF_SECONDS, settings.ALERTS_DELIVERY_BACKOFF_CAP_SECONDS
    step = min(cap, base * 2 ** max(0, attempts - 1))
    delay = step / 2 + random.uniform(0, step / 2)
    if retry_after:
        delay = max(delay, min(cap, retry_after))
    return timedelta(seconds=delay)


def _send(channel: Channel, *, idempotency_key: str, build: Callable[[], Message]) -> _Outcome:
    try:
        notifier = NOTIFIERS[channel.kind].from_channel(channel)
        result: SendResult = notifier.send(build(), idempotency_key=idempotency_key)
    except NotifierError as exc:
        return _Outcome(
            ok=False,
            error=str(exc),
            permanent=exc.permanent,
            status_code=exc.status_code,
            response_excerpt=exc.response_excerpt,
            duration_ms=exc.duration_ms,
            retry_after=exc.retry_after,
        )
    except Exception as exc:  # a bug (a notifier, a template) must not leave the row claimed until its lease ends
        log.exception("notifier %s of channel %s raised", channel.kind, channel.pk)
        return _Outcome(ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
    return _Outcome(
        ok=True,
        status_code=result.status_code,
        response_excerpt=result.response_excerpt,
        duration_ms=result.duration_ms,
    )


class _LogFields(TypedDict):
    """An attempt's row in the delivery log, less where it belongs and when."""

    ok: bool
    status_code: int | None
    error: str
    duration_ms: int | None
    response_excerpt: str


def _log_fields(outcome: _Outcome) -> _LogFields:
    return {
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "error": outcome.error[:ERROR_CHARS],
        "duration_ms": outcome.duration_ms,
        "response_excerpt": outcome.response_excerpt[:500],
    }


def _settle(notification: Notification, outcome: _Outcome, *, now: datetime, track_health: bool = True) -> Notification:
    attempt = notification.attempts  # this claim's number: a later claim has a higher one
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification=notification, channel=notification.channel, at=now, **_log_fields(outcome)
        )
        if outcome.ok:
            # A success settles the row whoever holds it now: it was delivered.
            Notification.objects.filter(
                pk=notification.pk,
                status__in=[Notification.Status.SENDING, Notification.Status.PENDING],
            ).update(
                status=Notification.Status.DELIVERED,
                delivered_at=now,
                lease_until=None,
                next_attempt_at=None,
                last_error="",
            )
        else:
            final = outcome.permanent or attempt >= settings.ALERTS_DELIVERY_MAX_ATTEMPTS
            changes: dict[str, Any] = {"lease_until": None, "last_error": outcome.error[:ERROR_CHARS]}
            if final:
                changes |= {"status": Notification.Status.FAILED, "next_attempt_at": None}
            else:
                changes |= {
                    "status": Notification.Status.PENDING,
                    "next_attempt_at": now + retry_delay(attempts=attempt, retry_after=outcome.retry_after),
                }
            # Only this claim's own failure: a worker whose lease ran out must not undo a newer claim.
            settled = Notification.objects.filter(
                pk=notification.pk, status=Notification.Status.SENDING, attempts=attempt
            ).update(**changes)
            if settled and final:
                IncidentEvent.objects.create(
                    incident_id=notification.incident_id,
                    at=now,
                    kind=IncidentEvent.Kind.DELIVERY_FAILED,
                    message=f"{notification.channel.name}: {outcome.error}"[:2000],
                    data={
                        "channel_id": notification.channel_id,
                        "notification_id": notification.pk,
                        "attempts": attempt,
                        "status_code": outcome.status_code,
                        "permanent": outcome.permanent,
                    },
                )
        change = _channel_health(notification.channel_id, ok=outcome.ok, now=now) if track_health else None
    if change:
        _meta_alert(notification.channel, status=change, error=outcome.error, now=now)
    notification.refresh_from_db()
    return notification


def _channel_health(channel_id: int, *, ok: bool, now: datetime) -> str | None:
    """Count the channel's failures in a row; "firing" or "resolved" when it crosses the threshold."""
    threshold = settings.ALERTS_CHANNEL_FAILING_THRESHOLD
    # Locked, so two workers failing at once count 2 and exactly one of them sees the crossing.
    channel = Channel.objects.select_for_update().get(pk=channel_id)
    was_failing = channel.consecutive_failures >= threshold
    if ok:
        channel.consecutive_failures, channel.failing_since, channel.last_delivered_at = 0, None, now
    else:
        channel.consecutive_failures += 1
        channel.failing_since = channel.failing_since or now
    channel.save(update_fields=["consecutive_failures", "failing_since", "last_delivered_at"])
    if ok and was_failing:
        return "resolved"
    if not ok and channel.consecutive_failures == threshold:
        return "firing"
    return None


def _meta_alert(channel: Channel, *, status: str, error: str, now: datetime) -> None:
    """Tell the other channels that this one is failing (or works again), as an incident of Lookout's own."""
    threshold = settings.ALERTS_CHANNEL_FAILING_THRESHOLD
    # Team channels that work: not a person's own pager, not another failing channel.
    others = tuple(
        Channel.objects.filter(enabled=True, user__isnull=True, consecutive_failures__lt=threshold)
        .exclude(pk=channel.pk)
        .values_list("pk", flat=True)
    )
    if status == "firing":
        summary = f"Channel {channel.name} failed {threshold} deliveries in a row: {error}"[:500]
    else:
        summary = f"Channel {channel.name} delivers again"
    try:
        # Imported here: the incident service writes outbox rows, so it sits above this module.
        from alerts.incidents.services.incidents import AlertSignal, alerts_receive

        signal = AlertSignal(
            source="meta",
            fingerprint=f"channel-failing-{channel.pk}",
            dedup_key=f"lookout:channel-failing:{channel.pk}",
            labels={
                "alertname": "NotificationChannelFailing",
                "severity": Severity.HIGH,
                "channel": channel.name,
                "channel_id": str(channel.pk),
                "channel_kind": channel.kind,
            },
            status=status,
            severity=Severity.HIGH,
            summary=summary,
            at=now,
            channel_ids=others,
        )
        alerts_receive(signals=[signal], now=now)
    except Exception:  # the meta-alert is about delivery; it must never break delivery itself
        log.exception("could not raise the meta-alert for failing channel %s", channel.pk)
