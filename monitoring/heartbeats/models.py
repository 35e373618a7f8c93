"""Heartbeats: targets that push (cron jobs, workers) instead of being probed."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from monitoring.common.validators import validate_cron, validate_time_zone
from monitoring.uptime.models import Target

# What a person sets on a heartbeat: its schedule and the run times it must keep. The API,
# config-as-code, the admin and the ping path all read this one list.
HEARTBEAT_FIELDS = (
    "schedule",
    "period_seconds",
    "cron",
    "time_zone",
    "grace_seconds",
    "max_runtime_seconds",
    "min_runtime_seconds",
)


class Heartbeat(models.Model):
    """The schedule and run state of a heartbeat target; its status lives on the Target."""

    class Schedule(models.TextChoices):
        PERIOD = "period", "Every period"
        CRON = "cron", "Cron expression"

    target = models.OneToOneField(Target, on_delete=models.CASCADE, primary_key=True, related_name="heartbeat")
    ping_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.CharField(max_length=6, choices=Schedule.choices, default=Schedule.PERIOD)
    period_seconds = models.PositiveIntegerField(default=86400, validators=[MinValueValidator(60)])
    cron = models.CharField(max_length=100, blank=True, validators=[validate_cron])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    grace_seconds = models.PositiveIntegerField(default=3600, validators=[MinValueValidator(60)])
    max_runtime_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="A run (start → finish) taking longer than this is a failure.",
    )
    min_runtime_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="A run finishing faster than this is a failure."
    )

    # --- Run state, written by the ping service and the detector.
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    expected_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_rid = models.CharField(max_length=64, blank=True, editable=False)
    last_duration_ms = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    # When the detector must next look at this heartbeat; null when nothing can change
    # without a ping (never pinged, already down, paused).
    alert_after = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["alert_after"], name="heartbeat_alert_after_idx", condition=models.Q(alert_after__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"heartbeat {self.ping_key}"

    def clean(self) -> None:
        if self.schedule == self.Schedule.CRON and not self.cron:
            raise ValidationError({"cron": "A cron schedule needs a cron expression."})
        if (
            self.min_runtime_seconds
            and self.max_runtime_seconds
            and self.min_runtime_seconds > self.max_runtime_seconds
        ):
            raise ValidationError({"min_runtime_seconds": "The minimum run time exceeds the maximum."})


class HeartbeatPing(models.Model):
    class Kind(models.IntegerChoices):
        SUCCESS = 1
        START = 2
        FAIL = 3
        LOG = 4

    # No index of its own: (heartbeat, -received_at) below serves lookups by heartbeat, and
    # every ping pays for each index.
    heartbeat = models.ForeignKey(Heartbeat, on_delete=models.CASCADE, related_name="pings", db_index=False)
    received_at = models.DateTimeField()
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    exit_code = models.PositiveSmallIntegerField(null=True)
    rid = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=7)
    remote_addr = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    # For a finish paired with its start (by rid, or the last start without one).
    duration_ms = models.PositiveBigIntegerField(null=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["heartbeat", "-received_at"], name="ping_heartbeat_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.received_at:%Y-%m-%d %H:%M:%S}"
