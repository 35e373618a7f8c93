"""Digest opt-ins (a staff user × a project × a cadence) and the digest outbox.

A digest is composed once per opt-in and period and frozen on its outbox row with a key
derived from who, what and which period: the unique key is what makes a second run of the
composing task write nothing, and every retry sends the same mail under the same Message-ID.
"""

from django.conf import settings
from django.db import models


class Cadence(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class DigestSubscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="digest_subscriptions",
        limit_choices_to={"is_staff": True, "is_active": True},
    )
    project = models.ForeignKey("monitoring.Project", on_delete=models.CASCADE, related_name="digest_subscriptions")
    cadence = models.CharField(max_length=6, choices=Cadence.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project__name", "cadence", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project", "cadence"], name="digest_one_per_user_project_cadence")
        ]

    def __str__(self) -> str:
        return f"{self.get_cadence_display()} digest of {self.project} for {self.user}"


class DigestDelivery(models.Model):
    """The digest outbox: one row per opt-in and period, claimed and sent by notify workers."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="deliveries")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, unique=True)
    to = models.EmailField()
    # The mail as composed for the period; every attempt sends exactly this.
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A claimed row belongs to its worker until then; past it, another worker may retry it.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_start"], name="digest_one_per_period"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="digest_delivery_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} for {self.period_start:%Y-%m-%d}"
