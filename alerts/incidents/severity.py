"""Severities as the seeds name them, and the three tiers people route on."""

from django.db import models


class Severity(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def tier(self) -> str:
        """critical pages, warning goes to the team's channels, info is only recorded."""
        return TIERS[self]

    @property
    def rank(self) -> int:
        """Higher is worse: lets inhibition and grouping compare severities."""
        return RANKS[self]


TIERS = {Severity.CRITICAL: "critical", Severity.HIGH: "warning", Severity.MEDIUM: "warning", Severity.LOW: "info"}
RANKS = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}
