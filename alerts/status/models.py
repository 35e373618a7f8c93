"""Public status pages: what a page shows (groups, components) and what people write on it
(public incidents and their updates).

A component's status is computed from monitoring's facts at read time (selectors.py); only a
person's override is stored here. `content_version` is bumped by every service that changes
what a page says, so a cached page is dropped the moment a fact written here changes.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

DOMAIN_VALIDATOR = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Give a host name such as status.example.com (no scheme, port or path).",
    flags=re.IGNORECASE,
)


class ComponentStatus(models.TextChoices):
    """Atlassian Statuspage's words, so tools that read summary.json understand them."""

    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


class StatusPage(models.Model):
    slug = models.SlugField(max_length=60, unique=True, help_text="The page answers at /status/ followed by this slug.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="A line under the title, e.g. what the page covers.")
    logo_url = models.URLField(
        blank=True,
        help_text="Served from this portal's own host or another one you control; the page loads nothing else "
        "from outside, so prefer an upload.",
    )
    logo = models.FileField(upload_to="status/logos/", blank=True, help_text="An SVG, PNG or JPEG; wins over the URL.")
    custom_domain = models.CharField(
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        validators=[DOMAIN_VALIDATOR],
        error_messages={"unique": "Another status page already answers on this domain."},
        help_text="Requests whose Host header is this name get this page at /. Add it to ALLOWED_HOSTS too.",
    )
    exclude_maintenance = models.BooleanField(
        default=True, help_text="Days with maintenance are shown as maintenance and left out of the uptime figure."
    )
    # Bumped by services whenever incidents, overrides or the layout change (cache key part).
    content_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # Host headers are case-insensitive; storing one spelling keeps the unique check honest.
        self.custom_domain = (self.custom_domain or "").strip().lower().rstrip(".") or None
        if self.logo and not (self.logo.name or "").lower().endswith((".svg", ".png", ".jpg", ".jpeg", ".webp")):
            raise ValidationError({"logo": "Upload an SVG, PNG, JPEG or WebP image."})


class ComponentGroup(models.Model):
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["page", "position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """One line on the page, backed by a target (probed or heartbeat: both are Targets)."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="components"
    )
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    target = models.ForeignKey("monitoring.Target", on_delete=models.CASCADE, related_name="status_components")
    status_override = models.CharField(
        max_length=20,
        choices=ComponentStatus.choices,
        blank=True,
        help_text="Shown instead of the computed status until cleared.",
    )
    override_note = models.CharField(max_length=500, blank=True, help_text="Why the status was set by hand.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "position", "name"]
        indexes = [models.Index(fields=["page", "position"], name="status_component_page_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.group is not None and self.page_id and self.group.page_id != self.page_id:
            raise ValidationError({"group": "Choose a group of the same status page."})
        if self.override_note and not self.status_override:
            raise ValidationError({"override_note": "A note explains an override; choose the status too."})


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class PublicIncident(models.Model):
    """What the public reads about an incident; never the internal timeline."""

    class Impact(models.TextChoices):
        NONE = "none", "None"
        MINOR = "minor", "Minor"
        MAJOR = "major", "Major"
        CRITICAL = "critical", "Critical"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="incidents")
    name = models.CharField(max_length=300)
    impact = models.CharField(max_length=8, choices=Impact.choices, default=Impact.MINOR)
    # The newest update's status, kept here so lists need no subquery.
    status = models.CharField(
        max_length=13, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING, editable=False
    )
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    internal_incident = models.ForeignKey(
        "alerts.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="public_incidents"
    )
    started_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["page", "-started_at"], name="public_incident_page_idx")]

    def __str__(self) -> str:
        return self.name


class PublicIncidentUpdate(models.Model):
    incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=13, choices=IncidentStatus.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class Subscriber(models.Model):
    """Someone who wants to hear about a page's incidents and maintenance: an email address
    (told nothing until it confirms by a signed link) or a webhook URL (checked against the
    outbound private-address rule when it subscribes and at every send)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    # An email address (stored lower-case) or a webhook URL: unique per page and kind.
    address = models.CharField(max_length=2000)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["page", "kind", "address"]
        constraints = [
            models.UniqueConstraint(fields=["page", "kind", "address"], name="status_subscriber_unique_address"),
        ]

    def __str__(self) -> str:
        return self.address


class SubscriberNotice(models.Model):
    """What a subscriber was (or is to be) told, one row per subscriber and thing told: the
    unique `topic` ("update:12", "maintenance:3-1700000000", "confirm:…") is what makes
    "once each" hold however often the fan-out runs. It is also the outbox: claimed with a
    conditional update and a lease, retried with backoff, sent under `idempotency_key`."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="notices")
    topic = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=64, unique=True)
    # The message as of when it was written (subject, text, url…): every attempt sends exactly it.
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "topic"], name="status_notice_once_per_topic"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="status_notice_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id} {self.topic} {self.status}"
