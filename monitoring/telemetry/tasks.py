from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from monitoring.telemetry.partitions import points
from monitoring.telemetry.services.retention import telemetry_retention_apply
from monitoring.telemetry.services.rollups import rollups_build, rollups_fold_days


@shared_task(name="telemetry.build_rollups")
def build_rollups() -> int:
    """Beat's minute tick: fold newly marked minutes into rollups, closed hours into days,
    and make the next days' partitions ahead of the points that will need them."""
    today = timezone.now().date()
    points.ensure([today, today + timedelta(days=1)])
    built = rollups_build()
    rollups_fold_days()
    return built


@shared_task(name="telemetry.apply_retention")
def apply_telemetry_retention() -> None:
    telemetry_retention_apply()
