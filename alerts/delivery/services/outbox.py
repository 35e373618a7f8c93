"""Putting notifications in the outbox: one row per incident event and channel.

Rows are written in the caller's transaction, so an incident event and its notifications
commit together; the notify workers are nudged only after that commit. A nudge that never
arrives costs latency, not the page: the delivery tick sweeps every due row.
"""

import hashlib
from datetime import datetime

from alerts.delivery.services.nudges import nudge_after_commit
from alerts.models import Channel, IncidentEvent, Notification

DELIVER_TASK = "delivery.deliver_notifications"


def idempotency_key(*, event_id: int, channel_id: int) -> str:
    """Stable for one event on one channel, whichever worker sends it and however often."""
    return hashlib.sha256(f"lookout:{event_id}:{channel_id}".encode()).hexdigest()


def notifications_create(
    *, event: IncidentEvent, channels: list[Channel], now: datetime, muted: dict[int, str] | None = None
) -> list[Notification]:
    """Outbox rows for `event` on each channel; channels in `muted` (id → reason) get a row
    marked muted, which is never sent but shows in the timeline. Idempotent per event and channel."""
    muted = muted or {}
    rows = [
        Notification(
            incident_id=event.incident_id,
            event=event,
            channel=channel,
            idempotency_key=idempotency_key(event_id=event.pk, channel_id=channel.pk),
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
