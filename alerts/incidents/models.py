"""Incidents: what a person works. Alerts (from rules or outside) group into one by dedup key.

An incident carries its own clocks, so the beat ticks that act on it are one indexed query
each: `next_notify_at` (group wait / group interval / repeat interval, Alertmanager's
three timers) and `next_escalation_at` (the frozen escalation policy's next step).

Noise control: silences, recurring maintenance windows, inhibition and target dependencies.

None of these stops an alert from being recorded; they decide whether its notification goes
out. A muted notification stays in the incident's timeline, marked muted, with the reason.
"""

from django.conf import settings
from django.db import models

from alerts.incidents.severity import Severity


class Incident(models.Model):
    class Status(models.TextChoices):
        TRIGGERED = "triggered"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    class Source(models.TextChoices):
        RULE = "rule"
        EXTERNAL = "external"
        META = "meta", "Lookout itself"

    project = models.ForeignKey(
        "monitoring.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="incidents"
    )
    title = models.CharField(max_length=500)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.HIGH)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TRIGGERED)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.RULE)
    # Alerts with the same dedup key append to the open incident instead of opening another.
    dedup_key = models.CharField(max_length=255)
    labels = models.JSONField(default=dict, blank=True)  # the labels its alerts share
    rule = models.ForeignKey(
        "alerts.AlertRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    integration = models.ForeignKey(
        "alerts.Integration", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    channels = models.ManyToManyField("alerts.Channel", blank=True, related_name="incidents")
    auto_resolve = models.BooleanField(default=True)

    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveIntegerField(default=0)

    # Grouping clocks, copied from the rule (or integration) when the incident opens.
    group_interval_seconds = models.PositiveIntegerField(default=300)
    repeat_interval_seconds = models.PositiveIntegerField(default=4 * 3600)
    next_notify_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    # Digest of the alert set last notified: a changed set is news at the next group interval.
    notified_digest = models.CharField(max_length=64, blank=True)

    # Escalation: the policy as it was when the incident opened, so edits don't move a page.
    escalation_snapshot = models.JSONField(default=list, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"], condition=~models.Q(status="resolved"), name="incident_one_open_per_dedup_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_notify_at"],
                name="incident_notify_due_idx",
                condition=models.Q(next_notify_at__isnull=False),
            ),
            models.Index(
                fields=["next_escalation_at"],
                name="incident_escalation_due_idx",
                condition=models.Q(next_escalation_at__isnull=False),
            ),
            models.Index(fields=["status", "-opened_at"], name="incident_status_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class IncidentAlert(models.Model):
    """One alert inside an incident: a rule instance or an external alert, by fingerprint."""

    class Status(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=64)
    labels = models.JSONField(default=dict)
    summary = models.CharField(max_length=500, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.HIGH)
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FIRING)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "fingerprint"], name="incident_alert_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.labels} {self.status}"


class IncidentEvent(models.Model):
    """The incident's timeline: every thing that happened to it, with who and when."""

    class Kind(models.TextChoices):
        FIRED = "fired"
        APPENDED = "appended", "Alert added"
        NOTIFIED = "notified"
        MUTED = "muted"
        ESCALATED = "escalated"
        ACKNOWLEDGED = "acknowledged"
        SNOOZED = "snoozed"
        COMMENT = "comment"
        RESOLVED = "resolved"
        REOPENED = "reopened"
        DELIVERY_FAILED = "delivery_failed", "Delivery failed"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="incident_event_time_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class Silence(models.Model):
    """Label matchers that mute matching alerts between two times. A silence always ends."""

    matchers = models.JSONField(
        help_text='e.g. [{"name": "target", "op": "=", "value": "shop"}]; '
        "ops: =, !=, =~, !~ (regular expressions match whole values)."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["ends_at"], name="silence_ends_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="silence_ends_after_start"
            ),
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
    project = models.ForeignKey(
        "monitoring.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    target = models.ForeignKey(
        "monitoring.Target", on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    tag = models.ForeignKey(
        "monitoring.Tag", on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    recurrence = models.CharField(max_length=5, choices=Recurrence.choices, default=Recurrence.ONCE)
    expression = models.CharField(
        max_length=500, blank=True, help_text="Cron ('0 2 * * SUN') or RRULE ('FREQ=WEEKLY;BYDAY=SU;BYHOUR=2')."
    )
    starts_at = models.DateTimeField(help_text="The first (or only) window starts here; recurrences from here on.")
    duration_minutes = models.PositiveIntegerField(default=60)
    time_zone = models.CharField(max_length=64, default="UTC")
    until = models.DateTimeField(null=True, blank=True, help_text="No window starts after this.")
    effect = models.CharField(max_length=5, choices=Effect.choices, default=Effect.MUTE)
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
            models.CheckConstraint(
                condition=~models.Q(target=models.F("depends_on")), name="target_dependency_not_self"
            ),
        ]
        verbose_name_plural = "target dependencies"

    def __str__(self) -> str:
        return f"{self.target_id} depends on {self.depends_on_id}"
