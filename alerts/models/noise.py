"""Noise control: silences, recurring maintenance windows, inhibition and target dependencies.

None of these stops an alert from being recorded; they decide whether its notification goes
out. A muted notification stays in the incident's timeline, marked muted, with the reason.
"""

from django.conf import settings
from django.db import models


class Silence(models.Model):
    """Label matchers that mute matching alerts between two times. A silence always ends."""

    matchers = models.JSONField(help_text='e.g. [{"name": "target", "op": "=", "value": "shop"}]; '
                                          "ops: =, !=, =~, !~ (regular expressions match whole values).")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["ends_at"], name="silence_ends_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="silence_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"silence {self.pk} until {self.ends_at:%Y-%m-%d %H:%M}"


class MaintenanceWindow(models.Model):
    """A recurring (cron or RRULE) or one-off window, for a project, a target or a tag."""

    class Recurrence(models.TextChoices):
        ONCE = "once", "Once"
        CRON = "cron", "Cron expression"
        RRULE = "rrule", "RRULE (RFC 5545)"

    class Effect(models.TextChoices):
        MUTE = "mute", "Mute notifications"
        PAUSE = "pause", "Pause checks"

    name = models.CharField(max_length=200)
    project = models.ForeignKey("monitoring.Project", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="maintenance_windows")
    target = models.ForeignKey("monitoring.Target", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="maintenance_windows")
    tag = models.ForeignKey("monitoring.Tag", on_delete=models.CASCADE, null=True, blank=True,
                            related_name="maintenance_windows")
    recurrence = models.CharField(max_length=5, choices=Recurrence.choices, default=Recurrence.ONCE)
    expression = models.CharField(max_length=500, blank=True,
                                  help_text="Cron ('0 2 * * SUN') or RRULE ('FREQ=WEEKLY;BYDAY=SU;BYHOUR=2').")
    starts_at = models.DateTimeField(help_text="The first (or only) window starts here; recurrences from here on.")
    duration_minutes = models.PositiveIntegerField(default=60)
    time_zone = models.CharField(max_length=64, default="UTC")
    until = models.DateTimeField(null=True, blank=True, help_text="No window starts after this.")
    effect = models.CharField(max_length=5, choices=Effect.choices, default=Effect.MUTE)
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    # Targets this window paused itself, so closing it resumes those and not one a person paused.
    paused_target_ids = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "name"]

    def __str__(self) -> str:
        return self.name


class InhibitRule(models.Model):
    """While an alert matching `source_matchers` fires, alerts matching `target_matchers` that
    share the `equal` labels with it are muted (a critical mutes the warning about the same thing)."""

    name = models.CharField(max_length=200)
    source_matchers = models.JSONField()
    target_matchers = models.JSONField()
    equal = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TargetDependency(models.Model):
    """`target` depends on `depends_on`: while the latter is down, the former's alerts are muted."""

    target = models.ForeignKey("monitoring.Target", on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey("monitoring.Target", on_delete=models.CASCADE, related_name="dependents")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "depends_on"], name="target_dependency_unique"),
            models.CheckConstraint(condition=~models.Q(target=models.F("depends_on")), name="target_dependency_not_self"),
        ]
        verbose_name_plural = "target dependencies"

    def __str__(self) -> str:
        return f"{self.target_id} depends on {self.depends_on_id}"
