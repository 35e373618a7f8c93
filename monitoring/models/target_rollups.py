"""Per-target rollups of probe results by minute, hour and day, so long windows never read raw rows."""

from django.db import models

from monitoring.models.targets import Target


class TargetRollup(models.Model):
    class Resolution(models.IntegerChoices):
        MINUTE = 60
        HOUR = 3600
        DAY = 86400

    # No index of its own: the unique (target, resolution, bucket_start) serves lookups by target.
    target = models.ForeignKey(Target, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                               db_index=False)
    resolution = models.PositiveIntegerField(choices=Resolution.choices)
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    up_count = models.PositiveIntegerField(help_text="Up or degraded: the target answered.")
    degraded_count = models.PositiveIntegerField()
    latency_count = models.PositiveIntegerField()
    latency_sum = models.BigIntegerField()
    latency_min = models.PositiveIntegerField(null=True)
    latency_max = models.PositiveIntegerField(null=True)
    # Log-scale latency histogram {bucket index: count}; buckets merge by addition, so an
    # hour's p95 comes from its minutes and a quarter's from its days.
    histogram = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "resolution", "bucket_start"], name="target_rollup_unique"),
        ]
        indexes = [models.Index(fields=["resolution", "bucket_start"], name="target_rollup_time_idx")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_resolution_display()} {self.bucket_start:%Y-%m-%d %H:%M}"


class TargetRollupCursor(models.Model):
    """Up to when each resolution has been rolled up; the rollup task resumes from here."""

    resolution = models.PositiveIntegerField(choices=TargetRollup.Resolution.choices, unique=True)
    done_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_resolution_display()} until {self.done_until:%Y-%m-%d %H:%M}"
