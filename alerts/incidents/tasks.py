"""Incident ticks run by beat (queue default): notification rounds, maintenance pauses."""

from celery import shared_task
from django.utils import timezone

from alerts.incidents.services.noise import maintenance_pause_tick
from alerts.incidents.services.rounds import incidents_notify_due


@shared_task(name="incidents.notify_due")
def notify_due_incidents() -> int:
    return incidents_notify_due(now=timezone.now())


@shared_task(name="incidents.apply_maintenance_pauses")
def apply_maintenance_pauses() -> dict[str, int]:
    return maintenance_pause_tick(now=timezone.now())
