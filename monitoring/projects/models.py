"""A project is one monitored application; its ingest keys are how its clients sign in."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property

from monitoring.common.credentials import Credential, TokenCredential


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    telemetry_allowed_origins = models.TextField(
        blank=True, help_text="Web origins allowed to send browser telemetry (https://shop.example), one per line."
    )
    telemetry_max_series = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most metric series this project may have; empty uses TELEMETRY_MAX_SERIES."
    )
    telemetry_max_tag_values = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most values one tag may take; empty uses TELEMETRY_MAX_TAG_VALUES."
    )
    errors_scrub_data = models.BooleanField(
        default=True,
        help_text="Filter passwords, tokens, card numbers and the like from error events before storing them.",
    )
    errors_scrub_extra_keys = models.TextField(
        blank=True, help_text="More field names to filter from error events, one per line (matched as substrings)."
    )
    errors_store_client_ip = models.BooleanField(
        default=False, help_text="Keep the client IP address in error events (removed by default)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def dsn(self) -> str | None:
        """The DSN of the oldest active key: what a newcomer copies into sentry-sdk."""
        key = next((k for k in self.ingest_keys.all() if k.is_active), None)
        return key.dsn if key else None


class Environment(models.Model):
    """A deployment of a project (production, staging…), named as SDKs report it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(
        max_length=64,
        validators=[RegexValidator(r"^[^\s/]+$", "An environment name has no spaces or slashes.")],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="environment_unique_per_project"),
        ]

    def __str__(self) -> str:
        return self.name


class IngestKey(Credential):
    """A public key (the DSN's user part) with an optional secret, stored hashed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ingest_keys")
    label = models.CharField(max_length=100, default="Default")
    public_key = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.public_key[:8]}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_hash)

    @property
    def dsn(self) -> str:
        site = urlsplit(settings.SITE_URL)
        return f"{site.scheme}://{self.public_key}@{site.netloc}{site.path}/{self.project_id}"


class ApiToken(TokenCredential):
    """A bearer token for the REST API. Only its SHA-256 is kept; the token is shown once."""

    TOKEN_PREFIX = "lkt_"

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    # The first characters, so a person can tell tokens apart without the secret.
    prefix = models.CharField(max_length=12, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    projects = models.ManyToManyField(
        Project,
        blank=True,
        related_name="+",
        help_text="Limit the token to these projects' objects; none chosen means every project.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.scope})"

    @property
    def allows_writes(self) -> bool:
        return self.scope == self.Scope.WRITE

    @cached_property
    def project_ids(self) -> frozenset[int] | None:
        """The projects the token is limited to, or None for every project. Read once per
        request: the authenticated token lives as long as the request."""
        return frozenset(self.projects.values_list("id", flat=True)) or None
