"""The metrics store: series, their raw points, and per-minute, per-hour and per-day rollups.

A series is one (project, name, tag set). Raw points are for drill-down and for building
rollups; every read that aggregates goes to the rollups, whose histograms merge.
"""

from django.db import models

from monitoring.projects.models import Project


class MetricSeries(models.Model):
    class Kind(models.TextChoices):
        COUNTER = "counter"
        GAUGE = "gauge"
        DISTRIBUTION = "distribution"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metric_series")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DISTRIBUTION)
    unit = models.CharField(max_length=32, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # SHA-256 of the canonical (sorted, compact) JSON of tags: a unique index on a JSON
    # column is not portable, a fixed-width hash is.
    tags_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "metric series"
        constraints = [
            models.UniqueConstraint(fields=["project", "name", "tags_hash"], name="metricseries_unique_tags"),
        ]

    def __str__(self) -> str:
        tags = ",".join(f"{k}={v}" for k, v in sorted(self.tags.items()))
        return f"{self.name}{{{tags}}}"


class MetricTagValue(models.Model):
    """Each distinct value a tag key took in a project: counting them is one indexed query."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="metric_tag_values")
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key", "value"], name="metrictagvalue_unique"),
        ]


class MetricPoint(models.Model):
    """One raw observation. On PostgreSQL the table is partitioned by day on `timestamp`
    (see migration 0002), with primary key (timestamp, id); `id` stays unique through its
    sequence, so the ORM keeps using it as the primary key."""

    # No index of its own: (series, timestamp) below serves it, and ingest pays per index.
    series = models.ForeignKey(MetricSeries, on_delete=models.CASCADE, related_name="points", db_index=False)
    timestamp = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["series", "timestamp"], name="metricpoint_series_time")]


class MetricRollup(models.Model):
    class Resolution(models.IntegerChoices):
        MINUTE = 60, "minute"
        HOUR = 3600, "hour"
        DAY = 86400, "day"

    series = models.ForeignKey(MetricSeries, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    resolution = models.PositiveIntegerField(choices=Resolution.choices)
    start = models.DateTimeField()
    count = models.BigIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()
    # monitoring.telemetry.histogram.Histogram.encode(): a few hundred bytes at most.
    histogram = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "resolution", "start"], name="metricrollup_unique_bucket"),
        ]
        indexes = [models.Index(fields=["resolution", "start"], name="metricrollup_resolution_start")]


class MetricRollupCursor(models.Model):
    """Up to when a resolution built from closed buckets (days, from hours) has been rolled
    up: readers take that resolution before it and the finer one from it on."""

    resolution = models.PositiveIntegerField(choices=MetricRollup.Resolution.choices, unique=True)
    done_until = models.DateTimeField()


class RollupBacklog(models.Model):
    """A minute whose raw points changed since its rollups were last built.

    Ingest marks the minutes it wrote to (bumping `marked_at`); the rollup task rebuilds
    them and removes a mark only if `marked_at` is still what it read, so a point that
    lands while the task runs is rolled up on the next tick, however late it arrived."""

    minute = models.DateTimeField(primary_key=True)
    marked_at = models.DateTimeField()


class IngestRejection(models.Model):
    """How many telemetry requests a project had refused, per day and reason."""

    class Reason(models.TextChoices):
        INVALID = "invalid", "invalid input"
        TOO_LARGE = "too_large", "body too large"
        THROTTLED = "throttled", "rate limited"
        CARDINALITY = "cardinality", "cardinality limit"
        ORIGIN = "origin", "origin not allowed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ingest_rejections")
    day = models.DateField()
    reason = models.CharField(max_length=12, choices=Reason.choices)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "day", "reason"], name="ingestrejection_unique"),
        ]
