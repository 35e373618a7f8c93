"""The claim every sent-once outbox follows: alert notifications, digests and status-page notices.

A row is due when it is pending (or sending, with its lease run out) and its next attempt has
come. One conditional UPDATE claims it: it becomes sending, gets a lease, counts an attempt,
and its next attempt moves to the lease's end, so a worker killed mid-send leaves a row that
simply becomes due again. Any number of workers can sweep an outbox; each row has one sender
at a time. The models share the fields: status (with PENDING and SENDING), attempts,
next_attempt_at and lease_until.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F


def _open(model: Any) -> list[str]:
    return [model.Status.PENDING, model.Status.SENDING]


def outbox_due_ids(model: Any, *, now: datetime, limit: int | None = None) -> list[int]:
    """The oldest due rows first, up to `limit` (ALERTS_DELIVERY_BATCH)."""
    limit = settings.ALERTS_DELIVERY_BATCH if limit is None else limit
    due = (
        model.objects.filter(status__in=_open(model), next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return list(due)


def outbox_claim(model: Any, *, pk: int, now: datetime) -> bool:
    """Claim row `pk` for this worker; False when it is not due or another worker holds it."""
    lease_until = now + timedelta(seconds=settings.ALERTS_DELIVERY_LEASE_SECONDS)
    return bool(
        model.objects.filter(pk=pk, status__in=_open(model), next_attempt_at__lte=now).update(
            status=model.Status.SENDING,
            lease_until=lease_until,
            next_attempt_at=lease_until,
            attempts=F("attempts") + 1,
        )
    )
