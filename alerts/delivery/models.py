"""Where notifications go (channels), the outbox of what is to be sent, and what happened.

Delivery is at least once with an idempotency key per outbox row: the key travels with the
request (a header, PagerDuty's dedup_key), so a retry after a worker died mid-send is
recognised as the same page by whoever receives it. The row also holds its message, frozen
when it was written, so that key always comes with the same body.
"""

from django.conf import settings
from django.db import models


class Channel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams workflow webhook"
        DISCORD = "discord", "Discord webhook"
        WEBHOOK = "webhook", "Generic webhook"
        PAGERDUTY = "pagerduty", "PagerDuty Events v2"
        TELEGRAM = "telegram", "Telegram"
        NTFY = "ntfy", "ntfy"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Shape checked by the kind's notifier class; secrets are named environment variables.
    config = models.JSONField(default=dict, blank=True)
    allow_private = models.BooleanField(
        default=False, help_text="Internal channel: may reach private and loopback addresses."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_channels",
        help_text="A person's own channel, used when paging them.",
    )
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    last_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """The outbox: one row per incident event and channel, claimed and sent by notify workers."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"
        MUTED = "muted"

    incident = models.ForeignKey("alerts.Incident", on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey("alerts.IncidentEvent", on_delete=models.CASCADE, related_name="notifications")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    idempotency_key = models.CharField(max_length=64, unique=True)
    # The rendered message as of the event (alerts.delivery.services.frozen): every attempt
    # sends exactly this, never the incident's state at sending time. Empty on muted rows.
    payload = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    muted_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A claimed row belongs to its worker until then; past it, another worker may retry it.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="notification_one_per_event_channel"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} #{self.incident_id} {self.status}"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per send attempt, with what the other side answered."""

    # Empty for a channel's "send test": it goes through the same notifier but no outbox row.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempts_log", null=True, blank=True
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="delivery_log")
    at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["channel", "-at"], name="delivery_channel_time_idx")]

    def __str__(self) -> str:
        return f"{self.channel_id} {'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"
