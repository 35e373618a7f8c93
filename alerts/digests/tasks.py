"""Digest tasks: thin and idempotent. Composing runs on "default"; sending on "notify",
where beat and the nudge after composing put it."""

from celery import shared_task
from django.utils import timezone

from alerts.digests.services import digests_compose_due, digests_deliver, digests_deliver_due


@shared_task(name="digests.compose_due")
def compose_due() -> int:
    """Beat tick: the newest closed day and week for every opt-in still without it."""
    return digests_compose_due(now=timezone.now())


@shared_task(name="digests.deliver")
def deliver(delivery_ids: list[int]) -> int:
    """Send these digests now (the nudge after composing); rows not due are left alone."""
    return digests_deliver(delivery_ids=delivery_ids, now=timezone.now())


@shared_task(name="digests.deliver_due")
def deliver_due() -> int:
    """Beat tick: whatever is due (a missed nudge, a retry, a lease that ran out)."""
    return digests_deliver_due(now=timezone.now())
