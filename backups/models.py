"""Backup plans, their runs, verification receipts and the download audit log.

A plan says what to back up (a source and its kinds), when (cron in a time zone), where
(a storage and its credentials, named by environment variables) and for whom (age
recipients). Each kind of each due plan becomes a Run; a Run is a fact the alert engine
reads through `backups.selectors`. Secrets never sit here: only the names of the variables
that hold them.
"""

import os
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from backups.validators import parse_recipients, validate_env_name, validate_recipients
from monitoring.common.validators import validate_cron, validate_time_zone


class Source(models.TextChoices):
    PORTAL = "portal", "the portal's own database"
    POSTGRES = "postgres", "PostgreSQL (URL in an environment variable)"
    SQLITE = "sqlite", "SQLite file"


class Kind(models.TextChoices):
    DATABASE = "database", "database dump"
    EXPORT = "export", "data export"
    CONFIG = "config", "configuration"


class StorageKind(models.TextChoices):
    LOCAL = "local", "local folder"
    S3 = "s3", "S3-compatible"
    SFTP = "sftp", "SFTP"


# `manage.py backup list` must never be read as "back up the plan named list".
RESERVED_NAMES = frozenset({"list", "cleanup", "verify", "full"})


class Plan(models.Model):
    name = models.SlugField(max_length=64, unique=True, help_text="Used by `manage.py backup NAME`.")
    enabled = models.BooleanField(default=True)

    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PORTAL)
    source_env = models.CharField(
        max_length=128,
        blank=True,
        validators=[validate_env_name],
        help_text="PostgreSQL: the environment variable holding the database URL, e.g. APP_DATABASE_URL.",
    )
    sqlite_path = models.CharField(max_length=500, blank=True, help_text="SQLite: the database file's path.")

    kind_database = models.BooleanField("database dump", default=True)
    kind_export = models.BooleanField("data export", default=False, help_text="JSON Lines per table.")
    kind_config = models.BooleanField(
        "configuration", default=False, help_text="The portal's configuration as YAML (portal source only)."
    )

    cron = models.CharField(max_length=100, default="0 2 * * *", validators=[validate_cron])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    verify_cron = models.CharField(
        max_length=100,
        default="0 4 * * 0",
        validators=[validate_cron],
        help_text="When the newest backup is restored into a scratch database and checked (default weekly).",
    )

    storage = models.CharField(max_length=16, choices=StorageKind.choices, default=StorageKind.LOCAL)
    storage_path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Local: a folder (default BACKUPS_DIR). S3 and SFTP: a prefix (folder) inside the bucket or server.",
    )
    storage_bucket = models.CharField(max_length=255, blank=True, help_text="S3: the bucket.")
    storage_endpoint_url = models.URLField(
        blank=True, help_text="S3: the endpoint of an S3-compatible store (empty for AWS)."
    )
    storage_region = models.CharField(max_length=64, blank=True)
    storage_access_key_env = models.CharField(
        max_length=128, blank=True, validators=[validate_env_name], help_text="S3: variable holding the access key id."
    )
    storage_secret_key_env = models.CharField(
        max_length=128, blank=True, validators=[validate_env_name], help_text="S3: variable holding the secret key."
    )
    storage_url_env = models.CharField(
        max_length=128,
        blank=True,
        validators=[validate_env_name],
        help_text="SFTP: variable holding sftp://user:password@host:port/.",
    )

    recipients = models.TextField(
        validators=[validate_recipients],
        help_text="age public keys (age1…), one per line. The identity that decrypts stays outside the portal.",
    )

    retention_days = models.PositiveIntegerField(default=30)
    keep_daily = models.PositiveIntegerField(null=True, blank=True, help_text="GFS: newest backup of each of N days.")
    keep_weekly = models.PositiveIntegerField(null=True, blank=True, help_text="GFS: newest of each of N weeks.")
    keep_monthly = models.PositiveIntegerField(null=True, blank=True, help_text="GFS: newest of each of N months.")

    # Claimed by the dispatcher with a conditional update, like the probes' next_run_at.
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_verify_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # --- what the plan names ------------------------------------------------------------
    def kinds(self) -> list[str]:
        return [
            k
            for k, on in (
                (Kind.DATABASE, self.kind_database),
                (Kind.EXPORT, self.kind_export),
                (Kind.CONFIG, self.kind_config),
            )
            if on
        ]

    def recipient_list(self) -> list[str]:
        return parse_recipients(self.recipients)

    def env_names(self) -> dict[str, str]:
        """Field → environment variable name, for every variable this plan needs."""
        names = {}
        if self.source == Source.POSTGRES:
            names["source_env"] = self.source_env
        if self.storage == StorageKind.S3:
            names["storage_access_key_env"] = self.storage_access_key_env
            names["storage_secret_key_env"] = self.storage_secret_key_env
        if self.storage == StorageKind.SFTP:
            names["storage_url_env"] = self.storage_url_env
        return names

    def env_presence(self) -> dict[str, bool]:
        """Variable name → set or not (never the value)."""
        return {name: bool(os.environ.get(name)) for name in self.env_names().values() if name}

    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.name in RESERVED_NAMES:
            errors["name"] = f"{self.name!r} is a word of the backup command; choose another name."
        for field, name in self.env_names().items():
            if not name:
                errors[field] = "Name the environment variable."
            elif not os.environ.get(name):
                errors[field] = f"The environment variable {name} is not set."
        if self.source == Source.SQLITE and not self.sqlite_path:
            errors["sqlite_path"] = "Give the SQLite file's path."
        if self.storage == StorageKind.S3 and not self.storage_bucket:
            errors["storage_bucket"] = "Give the bucket's name."
        if not (self.kind_database or self.kind_export or self.kind_config):
            errors["kind_database"] = "Choose at least one kind."
        if self.kind_config and self.source != Source.PORTAL:
            errors["kind_config"] = "The configuration backup is the portal's own; choose the portal as source."
        if errors:
            raise ValidationError(errors)


class Status(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FailureKind(models.TextChoices):
    """Why a run or a verification failed, as a fact (the error text is for people)."""

    CONFIG = "config", "configuration (a variable not set, a bad setting)"
    SOURCE = "source", "the source could not be read"
    STORAGE = "storage", "the storage refused or failed"
    WORKER_LOST = "worker_lost", "the worker died"
    CHECKSUM = "checksum", "checksum mismatch"
    DECRYPT = "decrypt", "decryption failed"
    RESTORE = "restore", "restore failed"
    ROW_COUNTS = "row_counts", "row counts differ"
    INTEGRITY = "integrity", "integrity check failed"
    MIGRATIONS = "migrations", "migrations not applied"
    OTHER = "other"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class Run(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    format = models.CharField(max_length=32, help_text="What is inside the encryption: pg_dump -Fc, sqlite, jsonl…")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    source_version = models.CharField(max_length=64, blank=True)

    storage = models.CharField(max_length=16, choices=StorageKind.choices)
    storage_key = models.CharField(max_length=500, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    failure_kind = models.CharField(max_length=16, choices=FailureKind.choices, blank=True)

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    # Progress while running; the raw size once done.
    raw_bytes = models.BigIntegerField(default=0)
    stored_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    recipient_fingerprints = models.JSONField(default=list, blank=True)
    row_counts = models.JSONField(default=dict, blank=True, help_text="Table → rows, counted in the dump's snapshot.")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # Who runs it, so a reaper can tell a live run from one whose worker died.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # The newest verification's outcome, kept here so lists and facts need no join.
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_failed_at = models.DateTimeField(null=True, blank=True)
    verification_error = models.TextField(blank=True)
    recovery_seconds = models.FloatField(null=True, blank=True, help_text="Restore time measured by verification.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["plan", "status", "-started_at"], name="backups_run_plan_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="running"), name="backups_one_running_run_per_plan"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} {self.kind} #{self.pk}"

    @property
    def is_verified(self) -> bool:
        if self.verified_at is None:
            return False
        return self.verification_failed_at is None or self.verification_failed_at <= self.verified_at


class Verification(models.Model):
    """A receipt: what a test restore (or a disaster-recovery drill) proved about a backup."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", "verification"
        DRILL = "drill", "disaster-recovery drill"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="verifications")
    # Kept after retention removes the run: the receipt outlives the backup it proved.
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="verifications")
    run_label = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.VERIFY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    failure_kind = models.CharField(max_length=16, choices=FailureKind.choices, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sha256_ok = models.BooleanField(null=True)
    restore_seconds = models.FloatField(null=True, blank=True, help_text="The measured recovery time.")
    expected_rows = models.JSONField(default=dict, blank=True)
    found_rows = models.JSONField(default=dict, blank=True)
    integrity = models.TextField(blank=True, help_text="pg_amcheck or PRAGMA integrity_check, as they answered.")
    steps = models.JSONField(default=list, blank=True, help_text="Each step: name, ok, detail.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} of {self.run_label or self.plan.name} ({self.status})"


class DownloadLog(models.Model):
    """Who downloaded which backup, and when: a download is a copy of the whole database."""

    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="downloads")
    run_label = models.CharField(max_length=200)
    storage_key = models.CharField(max_length=500)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} downloaded {self.run_label} at {self.at:%Y-%m-%d %H:%M}"
