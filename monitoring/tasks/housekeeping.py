from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from monitoring.services.pulses import pulse_prune


@shared_task
def housekeeping() -> None:
    """Forget processes gone for a week, so health reports list only live workers."""
    pulse_prune(older_than=timezone.now() - timedelta(days=7))
