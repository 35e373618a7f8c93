"""External alert sources (Alertmanager, the generic events API), each with its own token."""

from django.db import models

from alerts.incidents.severity import Severity
from monitoring.common.credentials import TokenCredential


class Integration(TokenCredential):
    TOKEN_PREFIX = "lki_"

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Alertmanager webhook (v4)"
        EVENTS = "events", "Events API (PagerDuty-style)"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    project = models.ForeignKey(
        "monitoring.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="alert_integrations"
    )
    default_severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.HIGH)
    channels = models.ManyToManyField("alerts.Channel", blank=True, related_name="integrations")
    escalation_policy = models.ForeignKey(
        "alerts.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="integrations"
    )
    # The token's first characters, so people can tell tokens apart; only its hash is kept.
    token_prefix = models.CharField(max_length=12, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
