from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from monitoring.health.services import pulse_prune


@shared_task(name="health.housekeeping")
def housekeeping() -> None:
    """Forget processes gone for a week, so health reports list only live workers."""
    pulse_prune(older_than=timezone.now() - timedelta(days=7))
