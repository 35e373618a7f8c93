"""Escalation tick run by beat (queue default): page the steps that have come due."""

from celery import shared_task
from django.utils import timezone

from alerts.paging.services.escalation import escalations_advance


@shared_task(name="paging.advance_escalations")
def advance_escalations() -> int:
    return escalations_advance(now=timezone.now())
