"""Incident ticks run by beat (queue default): notification rounds, maintenance pauses."""

from celery import shared_task
from django.utils import timezone

from alerts.services.grouping import incidents_notify_due
from alerts.services.noise import maintenance_pause_tick


@shared_task
def notify_due_incidents() -> int:
    return incidents_notify_due(now=timezone.now())


@shared_task
def apply_maintenance_pauses() -> dict[str, int]:
    return maintenance_pause_tick(now=timezone.now())
