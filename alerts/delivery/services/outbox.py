"""Putting notifications in the outbox: one row per incident event and channel.

Rows are written in the caller's transaction, so an incident event and its notifications
commit together; the notify workers are nudged only after that commit. A nudge that never
arrives costs latency, not the page: the delivery tick sweeps every due row.

Each row to be sent carries its message, rendered and frozen as of the event
(alerts.delivery.services.frozen), and an idempotency key derived from that message: every
attempt sends the same body under the same key, and each round (firing, resolved, a
repeat) is an event of its own with a key of its own.
"""

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from alerts.delivery.messages import message_build, rendered
from alerts.delivery.services.frozen import message_freeze, payload_digest
from alerts.delivery.services.nudges import nudge_after_commit
from alerts.models import Channel, IncidentEvent, Notification

DELIVER_TASK = "delivery.deliver_notifications"


def idempotency_key(*, event_id: int, channel_id: int, payload: dict[str, Any] | None = None) -> str:
    """Names one message body: the event, the channel and the frozen message's digest.

    Rows written before messages were frozen (and muted rows, never sent) have no payload;
    their key is the event's and the channel's alone, as it always was.
    """
    content = f":{payload_digest(payload)}" if payload is not None else ""
    return hashlib.sha256(f"lookout:{event_id}:{channel_id}{content}".encode()).hexdigest()


def notification_payload(*, event: IncidentEvent, channel: Channel) -> dict[str, Any]:
    """The message of `event` for `channel`, rendered now and frozen."""
    unsaved = Notification(incident=event.incident, event=event, channel=channel)
    return message_freeze(message_build(notification=unsaved))


def notifications_create(
    *, event: IncidentEvent, channels: list[Channel], now: datetime, muted: dict[int, str] | None = None
) -> list[Notification]:
    """Outbox rows for `event` on each channel; channels in `muted` (id → reason) get a row
    marked muted, which is never sent but shows in the timeline. Idempotent per event and channel."""
    muted = muted or {}
    payloads = _payloads(event=event, channels=[c for c in channels if c.pk not in muted])
    rows = [
        Notification(
            incident_id=event.incident_id,
            event=event,
            channel=channel,
            idempotency_key=idempotency_key(event_id=event.pk, channel_id=channel.pk, payload=payloads.get(channel.pk)),
            payload=payloads.get(channel.pk),
            status=Notification.Status.MUTED if channel.pk in muted else Notification.Status.PENDING,
            muted_reason=muted.get(channel.pk, "")[:300],
            next_attempt_at=None if channel.pk in muted else now,
            created_at=now,
        )
        for channel in channels
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(Notification.objects.filter(event=event, channel__in=channels))
    pending = [n.pk for n in created if n.status == Notification.Status.PENDING]
    if pending:
        nudge_after_commit(DELIVER_TASK, args=[pending], queue="notify")
    return created


def _payloads(*, event: IncidentEvent, channels: list[Channel]) -> dict[int, dict[str, Any]]:
    """Frozen messages by channel id: built (one read of the incident's alerts) once, then only
    the receiver differs, rendered again since the templates may name it."""
    if not channels:
        return {}
    first, *others = channels
    base = message_build(notification=Notification(incident=event.incident, event=event, channel=first))
    payloads = {first.pk: message_freeze(base)}
    for channel in others:
        payloads[channel.pk] = message_freeze(rendered(replace(base, receiver=channel.name)))
    return payloads
