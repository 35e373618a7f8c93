"""Public status pages: what a page shows (groups, components) and what people write on it
(public incidents and their updates).

A component's status is computed from monitoring's facts at read time (selectors.py); only a
person's override is stored here. `content_version` is bumped by every service that changes
what a page says, so a cached page is dropped the moment a fact written here changes.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
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


class ComponentKind(models.TextChoices):
    TARGET = "target", "Target or heartbeat"
    ERROR_RATE = "error_rate", "Error rate of a project"
    TRANSACTION_P95 = "transaction_p95", "p95 of a transaction"
    VITAL_P75 = "vital_p75", "p75 of a Web Vital"


# The Web Vitals a derived component can watch: the ones the browser script sends and the
# Web Vitals panel judges (monitoring/telemetry/selectors/web_vitals.py THRESHOLDS).
VITAL_CHOICES = [("LCP", "LCP"), ("INP", "INP"), ("CLS", "CLS"), ("FCP", "FCP"), ("TTFB", "TTFB")]

# The fields each derived kind needs besides project, threshold and window, and those it must
# leave empty: the model check and the database constraint say the same thing.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ComponentKind.TARGET: ("target",),
    ComponentKind.ERROR_RATE: ("project", "threshold"),
    ComponentKind.TRANSACTION_P95: ("project", "threshold", "transaction"),
    ComponentKind.VITAL_P75: ("project", "threshold", "vital"),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    ComponentKind.TARGET: (),
    ComponentKind.ERROR_RATE: ("outage_threshold",),
    ComponentKind.TRANSACTION_P95: ("outage_threshold",),
    ComponentKind.VITAL_P75: ("outage_threshold", "route"),
}
DERIVED_FIELDS = ("target", "project", "threshold", "outage_threshold", "transaction", "vital", "route")


def _kind_check() -> models.Q:
    """Exactly the kind's fields are set: a target component has no project or threshold, a
    derived one no target, and each derived kind names what it measures."""
    blank = {
        "target": models.Q(target__isnull=True),
        "project": models.Q(project__isnull=True),
        "threshold": models.Q(threshold__isnull=True),
        "outage_threshold": models.Q(outage_threshold__isnull=True),
        "transaction": models.Q(transaction=""),
        "vital": models.Q(vital=""),
        "route": models.Q(route=""),
    }
    check = models.Q()
    for kind, needed in KIND_FIELDS.items():
        allowed = (*needed, *OPTIONAL_FIELDS[kind])
        this = models.Q(kind=kind)
        for name in DERIVED_FIELDS:
            if name in needed:
                this &= ~blank[name]
            elif name not in allowed:
                this &= blank[name]
        check |= this
    return check


class Component(models.Model):
    """One line on the page: a target (probed or heartbeat: both are Targets), or a derived
    signal of a project's facts (its error events per minute, a transaction's p95 duration, a
    Web Vital's p75) judged against a threshold over the last `window_minutes`."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    group = models.ForeignKey(
        ComponentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="components"
    )
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=15, choices=ComponentKind.choices, default=ComponentKind.TARGET)
    target = models.ForeignKey(
        "monitoring.Target", on_delete=models.CASCADE, null=True, blank=True, related_name="status_components"
    )
    project = models.ForeignKey(
        "monitoring.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_components",
        help_text="Whose facts a derived signal is read from.",
    )
    transaction = models.CharField(
        max_length=200, blank=True, help_text="The transaction name, as its transaction.duration metric is tagged."
    )
    vital = models.CharField(max_length=4, choices=VITAL_CHOICES, blank=True)
    route = models.CharField(max_length=200, blank=True, help_text="Only this route's samples; empty for all routes.")
    threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="Degraded above this: error events per minute, or milliseconds (CLS has no unit).",
    )
    outage_threshold = models.FloatField(
        null=True, blank=True, help_text="Optional: a major outage above this (higher than the threshold)."
    )
    window_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text="The signal is read over the last this many minutes.",
    )
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
        constraints = [models.CheckConstraint(condition=_kind_check(), name="status_component_kind_fields")]

    def __str__(self) -> str:
        return self.name

    @property
    def derived(self) -> bool:
        return self.kind != ComponentKind.TARGET

    def clean(self) -> None:
        errors: dict[str, str] = {}
        needed, optional = KIND_FIELDS.get(self.kind, ()), OPTIONAL_FIELDS.get(self.kind, ())
        label = ComponentKind(self.kind).label.lower() if self.kind in ComponentKind.values else self.kind
        for name in DERIVED_FIELDS:
            value = getattr(self, f"{name}_id" if name in ("target", "project") else name)
            empty = value is None or value == ""
            if name in needed and empty:
                errors[name] = f"A component showing the {label} needs this."
            elif name not in needed and name not in optional and not empty:
                errors[name] = f"Leave this empty for a component showing the {label}."
        if (
            "outage_threshold" not in errors
            and self.outage_threshold is not None
            and self.threshold is not None
            and self.outage_threshold <= self.threshold
        ):
            errors["outage_threshold"] = "Make the outage threshold higher than the degraded one."
        if errors:
            raise ValidationError(errors)
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
