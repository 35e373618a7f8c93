"""Subscriber notices (queue "notify", routed by config/celery.py): thin, idempotent, by id."""

from celery import shared_task
from django.utils import timezone

from alerts.status.subscribers import maintenances_announce, notices_deliver, notices_deliver_due, unconfirmed_forget


@shared_task(name="status.deliver_notices")
def deliver_notices(notice_ids: list[int]) -> int:
    """Send these notices now (the nudge after they were written); those not due are left alone."""
    return notices_deliver(notice_ids=notice_ids, now=timezone.now())


@shared_task(name="status.subscribers_tick")
def subscribers_tick() -> int:
    """Beat tick: announce maintenance pages now show, send whatever is due (a missed nudge,
    a retry, a lease that ran out), and forget addresses that never confirmed."""
    now = timezone.now()
    maintenances_announce(now=now)
    unconfirmed_forget(now=now)
    return notices_deliver_due(now=now)
