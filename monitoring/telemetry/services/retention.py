"""Forgetting telemetry past its retention, per resolution."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from monitoring.models import IngestRejection, MetricRollup, RollupBacklog
from monitoring.telemetry.partitions import points


@dataclass(frozen=True)
class RetentionResult:
    raw: int  # partitions dropped on PostgreSQL, rows deleted elsewhere
    minute_rollups: int
    hour_rollups: int
    day_rollups: int


def telemetry_retention_apply() -> RetentionResult:
    now = timezone.now()
    raw_cutoff = now - timedelta(days=settings.TELEMETRY_RAW_RETENTION_DAYS)
    hour_cutoff = now - timedelta(days=settings.TELEMETRY_HOUR_RETENTION_DAYS)
    raw = points.drop_before(raw_cutoff)
    # A mark for a minute whose points are gone could only rebuild it empty.
    RollupBacklog.objects.filter(minute__lt=raw_cutoff).delete()
    minute, _ = MetricRollup.objects.filter(
        resolution=MetricRollup.Resolution.MINUTE,
        start__lt=now - timedelta(days=settings.TELEMETRY_MINUTE_RETENTION_DAYS),
    ).delete()
    hour, _ = MetricRollup.objects.filter(resolution=MetricRollup.Resolution.HOUR, start__lt=hour_cutoff).delete()
    day, _ = MetricRollup.objects.filter(
        resolution=MetricRollup.Resolution.DAY,
        start__lt=now - timedelta(days=settings.TELEMETRY_DAY_RETENTION_DAYS),
    ).delete()
    IngestRejection.objects.filter(day__lt=hour_cutoff.date()).delete()
    return RetentionResult(raw=raw, minute_rollups=minute, hour_rollups=hour, day_rollups=day)
