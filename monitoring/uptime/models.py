"""What Lookout watches: targets (HTTP, TCP, DNS, TLS expiry, heartbeat), their tags and status.

Per-target rollups of probe results by minute, hour and day, so long windows never read raw rows.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from monitoring.common.validators import (
    validate_headers,
    validate_ip_address,
    validate_probe_url,
    validate_region_names,
    validate_status_ranges,
    validate_string_list,
    validate_warn_days,
)
from monitoring.projects.models import Project
from monitoring.uptime.causes import FlipCause

MIN_INTERVAL_SECONDS = 10
DEFAULT_REGION = "local"


def default_regions() -> list[str]:
    return [DEFAULT_REGION]


def default_warn_days() -> list[int]:
    return [30, 14, 7]


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    PAUSED = "paused"


class Target(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", "HTTP(S)"
        TCP = "tcp", "TCP port"
        DNS = "dns", "DNS record"
        TLS = "tls", "TLS certificate expiry"
        HEARTBEAT = "heartbeat", "Heartbeat (push)"

    class AuthKind(models.TextChoices):
        NONE = "", "None"
        BASIC = "basic", "Basic"
        BEARER = "bearer", "Bearer token"

    class KeywordMode(models.TextChoices):
        PRESENT = "present"
        ABSENT = "absent"

    class DnsRecordType(models.TextChoices):
        A = "A"
        AAAA = "AAAA"
        CNAME = "CNAME"
        MX = "MX"
        NS = "NS"
        TXT = "TXT"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="targets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    tags = models.ManyToManyField(Tag, blank=True, related_name="targets")

    # --- Schedule, regions and debounce (probed kinds; heartbeats keep theirs in Heartbeat).
    interval_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(MIN_INTERVAL_SECONDS)])
    timeout_seconds = models.FloatField(default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)])
    next_run_at = models.DateTimeField(default=timezone.now)
    paused = models.BooleanField(default=False)
    regions = models.JSONField(default=default_regions, validators=[validate_region_names])
    quorum = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="How many regions must agree before the target is down; empty means all of them.",
    )
    down_after_failures = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="N: failures before a region calls the target down.",
    )
    failure_window = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="M: count N failures among the last M probes; empty means N in a row.",
    )
    up_after_successes = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="K: successes in a row before a down region calls the target up again.",
    )

    # --- HTTP(S)
    url = models.CharField(max_length=2000, blank=True, validators=[validate_probe_url])
    method = models.CharField(
        max_length=7,
        default="GET",
        choices=[(m, m) for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")],
    )
    headers = models.JSONField(default=dict, blank=True, validators=[validate_headers])
    body = models.TextField(blank=True)
    auth_kind = models.CharField(max_length=6, choices=AuthKind.choices, default=AuthKind.NONE, blank=True)
    auth_username = models.CharField(max_length=200, blank=True)
    # Secrets stay out of the database: the probe reads this environment variable.
    auth_secret_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable holding the password or token."
    )
    accepted_statuses = models.CharField(max_length=200, default="200-399", validators=[validate_status_ranges])
    follow_redirects = models.BooleanField(default=True)
    max_redirects = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(30)])
    verify_tls = models.BooleanField(default=True)
    keyword = models.CharField(max_length=500, blank=True)
    keyword_mode = models.CharField(max_length=7, choices=KeywordMode.choices, default=KeywordMode.PRESENT)
    json_path = models.CharField(
        max_length=300, blank=True, help_text="Dotted path into a JSON body, e.g. 'status' or 'checks.0.ok'."
    )
    json_expected = models.CharField(max_length=300, blank=True, help_text="Expected value at json_path, as text.")
    degraded_after_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Slower than this is degraded, not down."
    )

    # --- TCP, TLS (host and port) and DNS (host is the name to resolve)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    dns_record_type = models.CharField(max_length=5, choices=DnsRecordType.choices, default=DnsRecordType.A)
    dns_expected = models.JSONField(default=list, blank=True, validators=[validate_string_list])
    dns_resolver = models.CharField(max_length=45, blank=True, validators=[validate_ip_address])
    dns_resolver_port = models.PositiveIntegerField(
        default=53, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    tls_warn_days = models.JSONField(default=default_warn_days, blank=True, validators=[validate_warn_days])

    # --- Current state, written by the probe engine and heartbeat services.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNKNOWN, editable=False)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    cert_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Per region: recent outcomes (newest last, 'u'/'d'/'f') and that region's verdict.
    region_states = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "name"]
        indexes = [
            # The dispatcher's only query: due, unpaused, probed targets in order of due time.
            models.Index(
                fields=["next_run_at"],
                name="target_due_idx",
                condition=models.Q(paused=False) & ~models.Q(kind="heartbeat"),
            ),
            models.Index(fields=["project", "status"], name="target_project_status_idx"),
            # The target list's order: the model's ordering plus the admin's -pk tiebreak, so
            # a page of it is read in order from the index instead of sorting every target.
            models.Index(fields=["project", "name", "-id"], name="target_list_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=MIN_INTERVAL_SECONDS), name="target_interval_min_10s"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_quorum(self) -> int:
        return min(self.quorum or len(self.regions), len(self.regions))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.HTTP:
            if not self.url:
                errors["url"] = "An HTTP target needs a URL."
            if self.auth_kind == self.AuthKind.BASIC and not self.auth_username:
                errors["auth_username"] = "Basic auth needs a user name."
            if self.auth_kind and not self.auth_secret_env:
                errors["auth_secret_env"] = "Name the environment variable that holds the secret."
            if self.json_expected and not self.json_path:
                errors["json_path"] = "Give the JSON path whose value is expected."
        if self.kind in (self.Kind.TCP, self.Kind.TLS, self.Kind.DNS):
            if not self.host:
                errors["host"] = "This kind of target needs a host name."
            elif not re.fullmatch(r"[A-Za-z0-9._:\-\[\]]+", self.host):
                errors["host"] = f"{self.host!r} is not a host name or address."
        if self.kind == self.Kind.TCP and not self.port:
            errors["port"] = "A TCP target needs a port."
        if self.auth_secret_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.auth_secret_env):
            errors["auth_secret_env"] = "Give the name of an environment variable, e.g. SHOP_HEALTH_TOKEN."
        if isinstance(self.regions, list) and self.quorum and self.quorum > len(self.regions):
            errors["quorum"] = f"The quorum cannot exceed the {len(self.regions)} region(s) named."
        if self.failure_window and self.failure_window < self.down_after_failures:
            errors["failure_window"] = "The window must hold at least N probes."
        if errors:
            raise ValidationError(errors)


class ProbeResult(models.Model):
    """One probe of one target from one region. Lean on purpose: there are tens of millions.

    `target` has no database constraint and no cascade: deleting a target must not walk
    millions of rows, and retention removes old results by time anyway. Reads go by
    (target_id, checked_at) and never join.
    """

    class Outcome(models.IntegerChoices):
        UP = 1
        DEGRADED = 2
        DOWN = 3

    # No index of its own: (target, -checked_at) below serves lookups by target.
    target = models.ForeignKey(
        Target, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    checked_at = models.DateTimeField()
    region = models.CharField(max_length=32, default=DEFAULT_REGION)
    outcome = models.PositiveSmallIntegerField(choices=Outcome.choices)
    latency_ms = models.PositiveIntegerField(null=True)
    dns_ms = models.PositiveIntegerField(null=True)
    connect_ms = models.PositiveIntegerField(null=True)
    tls_ms = models.PositiveIntegerField(null=True)
    first_byte_ms = models.PositiveIntegerField(null=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target", "-checked_at"], name="result_target_time_idx"),
            models.Index(fields=["checked_at"], name="result_time_idx"),  # retention
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_outcome_display()} at {self.checked_at:%Y-%m-%d %H:%M:%S}"


class Flip(models.Model):
    """A change of a target's status, at the exact time it was decided, and why: the cause for
    code to decide on, the reason for people to read.

    Built and stored only by monitoring.uptime.services.flips, whichever source moved the status.
    """

    # No index of its own: (target, -at) below serves lookups by target.
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="flips", db_index=False)
    at = models.DateTimeField()
    old_status = models.CharField(max_length=8, choices=Status.choices)
    new_status = models.CharField(max_length=8, choices=Status.choices)
    reason = models.CharField(max_length=500)
    cause = models.CharField(max_length=24, choices=FlipCause.choices, default=FlipCause.UNKNOWN)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target", "-at"], name="flip_target_time_idx"),
            models.Index(fields=["at"], name="flip_time_idx"),  # the alert engine's "since"
        ]

    def __str__(self) -> str:
        return f"{self.target_id}: {self.old_status} → {self.new_status} at {self.at:%Y-%m-%d %H:%M:%S}"


class TargetRollup(models.Model):
    class Resolution(models.IntegerChoices):
        MINUTE = 60
        HOUR = 3600
        DAY = 86400

    # No index of its own: the unique (target, resolution, bucket_start) serves lookups by target.
    target = models.ForeignKey(
        Target, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    resolution = models.PositiveIntegerField(choices=Resolution.choices)
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    up_count = models.PositiveIntegerField(help_text="Up or degraded: the target answered.")
    degraded_count = models.PositiveIntegerField()
    latency_count = models.PositiveIntegerField()
    latency_sum = models.BigIntegerField()
    latency_min = models.PositiveIntegerField(null=True)
    latency_max = models.PositiveIntegerField(null=True)
    # Log-scale latency histogram {bucket index: count}; buckets merge by addition, so an
    # hour's p95 comes from its minutes and a quarter's from its days.
    histogram = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "resolution", "bucket_start"], name="target_rollup_unique"),
        ]
        indexes = [models.Index(fields=["resolution", "bucket_start"], name="target_rollup_time_idx")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_resolution_display()} {self.bucket_start:%Y-%m-%d %H:%M}"


class TargetRollupCursor(models.Model):
    """Up to when each resolution has been rolled up; the rollup task resumes from here."""

    resolution = models.PositiveIntegerField(choices=TargetRollup.Resolution.choices, unique=True)
    done_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_resolution_display()} until {self.done_until:%Y-%m-%d %H:%M}"
