"""Sampled transactions and their spans, as the SDKs send them, kept to draw a trace's
waterfall and to list a transaction name's slowest traces.

Both tables grow with traffic, so on PostgreSQL they are partitioned by day on `start`
(migration 0019; primary key (start, id)) and retention drops whole days
(monitoring/traces/partitions.py). Ingest clamps `start` near the receive time, so a
client's wrong clock cannot create partitions far in the past or future."""

from django.db import models

from monitoring.projects.models import Project


class Transaction(models.Model):
    """One transaction: a transaction item, or a segment span (the local root of a trace).
    Its root span is also a Span row, so the waterfall reads spans alone."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    name = models.CharField(max_length=200)
    op = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    failed = models.BooleanField(default=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration = models.FloatField(help_text="Milliseconds.")
    release = models.CharField(max_length=250, blank=True)
    environment = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # A retried envelope stores nothing twice; a partitioned table's unique keys must
            # hold the partition key, and a retry carries the same start.
            models.UniqueConstraint(fields=["project", "trace_id", "span_id", "start"], name="transaction_unique_span"),
        ]
        indexes = [
            # A name's slowest traces in a window.
            models.Index(fields=["project", "name", "start"], name="transaction_name_start"),
            models.Index(fields=["trace_id"], name="transaction_trace"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.trace_id})"


class Span(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    parent_span_id = models.CharField(max_length=16, blank=True)
    op = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=32, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration = models.FloatField(help_text="Milliseconds.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "trace_id", "span_id", "start"], name="span_unique_span"),
        ]
        indexes = [models.Index(fields=["trace_id"], name="span_trace")]

    def __str__(self) -> str:
        return self.description or self.op or self.span_id
