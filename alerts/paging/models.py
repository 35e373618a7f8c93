"""Who is paged, and when: escalation policies (steps with delays) and on-call schedules."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class OnCallSchedule(models.Model):
    name = models.CharField(max_length=200, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OnCallLayer(models.Model):
    """A rotation: `users` take turns of `rotation_seconds` from `starts_at`. Higher layers
    (larger `priority`) win where they have someone on call, like PagerDuty's layers."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(default=0)
    users = models.JSONField(default=list, help_text="Usernames, in rotation order.")
    starts_at = models.DateTimeField()
    rotation_seconds = models.PositiveIntegerField(default=7 * 86400, validators=[MinValueValidator(3600)])
    # Optional daily restriction in the schedule's time zone, e.g. business hours 09:00–17:00.
    restrict_start = models.TimeField(null=True, blank=True)
    restrict_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "-priority", "id"]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name or self.pk}"


class OnCallOverride(models.Model):
    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.schedule} {self.starts_at:%Y-%m-%d %H:%M}"


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=200, unique=True)
    repeat = models.PositiveSmallIntegerField(
        default=0, help_text="Run the steps again this many times if unacknowledged."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """After `delay_minutes` unacknowledged (counted from the step before), page these."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=0)
    delay_minutes = models.PositiveIntegerField(default=0)
    channels = models.ManyToManyField("alerts.Channel", blank=True, related_name="+")
    schedule = models.ForeignKey(
        OnCallSchedule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Page whoever is on call in this schedule.",
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["policy", "order", "id"]

    def __str__(self) -> str:
        return f"{self.policy} step {self.order}"
