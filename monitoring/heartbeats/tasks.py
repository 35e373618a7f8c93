"""Beat's tick for heartbeats (queue default): find the ones that are late, missing or overrunning."""

from celery import shared_task
from django.utils import timezone

from monitoring.heartbeats.services.pings import heartbeats_detect


@shared_task(name="heartbeats.detect_late")
def detect_late_heartbeats() -> int:
    return heartbeats_detect(now=timezone.now())
