"""Notify workers (queue "notify", routed by this module's name): thin, idempotent, by id."""

from celery import shared_task
from django.utils import timezone

from alerts.delivery.services.sending import notifications_deliver, notifications_deliver_due


@shared_task(name="delivery.deliver_notifications")
def deliver_notifications(notification_ids: list[int]) -> int:
    """Send these outbox rows now (the nudge after they were written); rows not due are left alone."""
    return notifications_deliver(notification_ids=notification_ids, now=timezone.now())


@shared_task(name="delivery.deliver_due")
def deliver_due() -> int:
    """Beat tick: whatever is due (a missed nudge, a retry, a lease that ran out)."""
    return notifications_deliver_due(now=timezone.now())
