"""Alert rules, the state of each series a rule watches, and every change of that state.

A rule's kind (alerts.rules registry) says what it reads and how `params` is shaped; the
fields here are what every kind shares: when it is due, how long a breach must last, how
long firing outlives it, and what to do when there is no data or the read fails.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from alerts.incidents.severity import Severity


class Policy(models.TextChoices):
    """What a rule does when it has no data, or when reading its data fails."""

    ALERT = "alert", "Alert"
    OK = "ok", "Treat as OK"
    KEEP = "keep", "Keep the last state"


class AlertRule(models.Model):
    project = models.ForeignKey(
        "monitoring.Project",
        on_delete=models.CASCADE,
        related_name="alert_rules",
        null=True,
        blank=True,
        help_text="Empty: the rule reads across projects.",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)  # a key of alerts.rules.kinds.RULE_KINDS
    params = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.HIGH)
    labels = models.JSONField(default=dict, blank=True, help_text="Extra labels on every alert of this rule.")
    summary = models.CharField(max_length=500, blank=True, help_text="Shown in notifications; may use {value}.")
    enabled = models.BooleanField(default=True)

    interval_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(10)])
    for_seconds = models.PositiveIntegerField(
        default=0, help_text="Pending period: the condition must hold this long before the rule fires."
    )
    keep_firing_for_seconds = models.PositiveIntegerField(
        default=0, help_text="Stay firing this long after the condition clears."
    )
    no_data_policy = models.CharField(max_length=5, choices=Policy.choices, default=Policy.KEEP)
    error_policy = models.CharField(max_length=5, choices=Policy.choices, default=Policy.KEEP)
    auto_resolve = models.BooleanField(default=True, help_text="Resolve the incident when the rule resolves.")

    channels = models.ManyToManyField("alerts.Channel", blank=True, related_name="rules")
    escalation_policy = models.ForeignKey(
        "alerts.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="rules"
    )
    group_by = models.JSONField(
        default=list, blank=True, help_text="Labels that group this rule's alerts into one incident; empty: per alert."
    )
    group_across_rules = models.BooleanField(
        default=False,
        help_text="Group by those labels' values with the alerts of every other rule of the project "
        "that does so too, as an Alertmanager route groups whatever rule raised them. "
        "The incident keeps the routing of the rule that opened it.",
    )
    group_wait_seconds = models.PositiveIntegerField(default=30)
    group_interval_seconds = models.PositiveIntegerField(default=300)
    repeat_interval_seconds = models.PositiveIntegerField(default=4 * 3600)

    next_evaluation_at = models.DateTimeField(default=timezone.now, editable=False)
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["next_evaluation_at"], name="rule_due_idx", condition=models.Q(enabled=True)),
        ]
        # The form's minimum, held for every writer (the API, a shell, bulk updates): a rule
        # evaluated every second would take a share of each tick meant for a thousand rules.
        constraints = [
            models.CheckConstraint(condition=models.Q(interval_seconds__gte=10), name="rule_interval_at_least_10s"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleInstance(models.Model):
    """One series (or group) of a rule, keyed by its labels' fingerprint, and where it stands."""

    class State(models.TextChoices):
        INACTIVE = "inactive"
        PENDING = "pending"
        FIRING = "firing"
        RESOLVED = "resolved"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="instances")
    fingerprint = models.CharField(max_length=64)
    labels = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=State.choices, default=State.INACTIVE)
    active_since = models.DateTimeField(null=True, blank=True)  # condition first held (pending or firing)
    fired_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)  # condition stopped holding while firing
    last_value = models.FloatField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "fingerprint"], name="rule_instance_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.labels} {self.state}"


class RuleTransition(models.Model):
    """Every change of an instance's state, with why and the values the evaluator saw."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="transitions")
    instance = models.ForeignKey(RuleInstance, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField()
    from_state = models.CharField(max_length=8, choices=RuleInstance.State.choices)
    to_state = models.CharField(max_length=8, choices=RuleInstance.State.choices)
    reason = models.CharField(max_length=500)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["rule", "-at"], name="transition_rule_time_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.from_state} → {self.to_state} at {self.at:%Y-%m-%d %H:%M:%S}"
