"""Error tracking: issues (groups of alike events), their activity, the events themselves, and releases.

Ingest writes an event, a pending tally and (once per user) an issue-user row, and never
waits for the issue row: a hot issue would otherwise serialise every request on its row
lock. Tallies are folded into the issue's counters in batches (services/issues.py) by
whoever finds the issue unlocked.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from monitoring.projects.models import Project


# A classification rule's verdict on an issue. Named apart from alerts' incident Severity,
# which has the same values but another meaning (and monitoring never imports alerts).
class IssueSeverity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Category(models.TextChoices):
    AUTHENTICATION = "authentication"
    NETWORK = "network"
    VALIDATION = "validation"
    PERFORMANCE = "performance"
    SECURITY = "security"
    DATA_INTEGRITY = "data_integrity", "data integrity"


class Release(models.Model):
    """A version of a project's code: made by its first event, or beforehand by
    `sentry-cli releases new` (Sentry's releases belong to an organisation and list their
    projects; here each project has its own row of the version)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=250)
    # When the release was made (its first event, or `releases new`): what orders releases,
    # so "the next release" and "a newer release" mean what a team means by them.
    first_seen = models.DateTimeField()
    # `releases finalize`: when it was released to users; None while it is being built.
    date_released = models.DateTimeField(null=True, blank=True)
    # A database default: ingest makes release rows in raw SQL that names only the version.
    url = models.CharField(max_length=500, blank=True, db_default="")

    class Meta:
        ordering = ["-first_seen"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_per_project"),
        ]

    def __str__(self) -> str:
        return self.version


class ReleaseCommit(models.Model):
    """A commit of a release, as `sentry-cli releases set-commits` sends it (newest first)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="commits", db_index=False)
    position = models.PositiveIntegerField()  # 0 is the release's head
    repository = models.CharField(max_length=200)
    commit_id = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    author_name = models.CharField(max_length=128, blank=True)
    author_email = models.CharField(max_length=256, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "repository", "commit_id"], name="releasecommit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.repository}@{self.commit_id[:12]}"


class Deploy(models.Model):
    """A release put into an environment (`sentry-cli deploys new`)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deploys")
    environment = models.CharField(max_length=64)
    name = models.CharField(max_length=250, blank=True)
    url = models.CharField(max_length=500, blank=True)
    date_started = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField()

    class Meta:
        ordering = ["-date_finished", "-id"]

    def __str__(self) -> str:
        return f"{self.release} to {self.environment}"


class ErrorIssue(models.Model):
    class Status(models.TextChoices):
        UNRESOLVED = "unresolved", "Unresolved"
        RESOLVED = "resolved", "Resolved"
        RESOLVED_NEXT_RELEASE = "resolved_next_release", "Resolved in next release"
        IGNORED = "ignored", "Ignored"
        # Not a state a person picks: the issue now lives on as part of `merged_into`.
        MERGED = "merged", "Merged"

    class Level(models.TextChoices):
        DEBUG = "debug"
        INFO = "info"
        WARNING = "warning"
        ERROR = "error"
        FATAL = "fatal"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="error_issues")
    # monitoring.errors.fingerprints: hex SHA-256 of the grouping components.
    grouping_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    culprit = models.CharField(max_length=500, blank=True)
    type = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.ERROR)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    event_count = models.PositiveBigIntegerField(default=0)
    users_affected = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.UNRESOLVED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    resolved_in_release = models.CharField(max_length=250, blank=True)
    is_regression = models.BooleanField(default=False)
    regressed_at = models.DateTimeField(null=True, blank=True)
    # Ignored issues come back on their own after a time, or after N more events.
    snooze_until = models.DateTimeField(null=True, blank=True)
    snooze_event_count = models.PositiveIntegerField(null=True, blank=True)
    snooze_count_base = models.PositiveBigIntegerField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_issues"
    )
    # From the first matching classification rule when the issue was made.
    severity = models.CharField(max_length=8, choices=IssueSeverity.choices, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    should_alert = models.BooleanField(default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "grouping_hash"], name="errorissue_unique_hash"),
        ]
        # The issue stream: one project, newest activity first (or most frequent).
        indexes = [
            models.Index(fields=["project", "status", "-last_seen"], name="errorissue_stream"),
        ]

    def __str__(self) -> str:
        return self.title


class ErrorIssueActivity(models.Model):
    """The issue's timeline: what people did to it and what happened to it by itself, with who
    and when. The action is the fact; `detail` only helps a person read it (the release, the
    snooze, the other issue of a merge)."""

    class Action(models.TextChoices):
        RESOLVED = "resolved"
        RESOLVED_NEXT_RELEASE = "resolved_next_release", "Resolved in next release"
        IGNORED = "ignored"
        SNOOZED = "snoozed"
        UNRESOLVED = "unresolved"
        ASSIGNED = "assigned"
        # On each issue merged away, and on the issue kept (one row per issue it took in).
        MERGED = "merged", "Merged into another issue"
        MERGED_IN = "merged_in", "Took in a merged issue"
        # On the issue given its own life back, and on the issue it left.
        UNMERGED = "unmerged"
        UNMERGED_OUT = "unmerged_out", "Gave back an unmerged issue"
        # By Lookout itself, never a person (see AUTOMATIC).
        REGRESSED = "regressed"
        SNOOZE_ENDED = "snooze_ended", "Snooze ended"

    # Told apart by action, not by a missing actor: a person's row loses its actor when the
    # user is deleted, and must not then read as Lookout's doing.
    AUTOMATIC = frozenset({Action.REGRESSED, Action.SNOOZE_ENDED})

    # No index of its own: (issue, -at) below serves lookups by issue.
    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="activity", db_index=False)
    at = models.DateTimeField()
    action = models.CharField(max_length=24, choices=Action.choices)
    # None for an automatic action; on a person's, the user was deleted (or a script acted).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "error issue activity"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["issue", "-at"], name="errorissueactivity_time")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"


class ErrorEvent(models.Model):
    """One stored (scrubbed) event. On PostgreSQL the table is partitioned by day on
    `timestamp` (migration 0004), primary key (timestamp, id), so retention drops whole
    days. Ingest clamps `timestamp` near the receive time, so a client's wrong clock
    cannot create partitions far in the past or future."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="error_events", db_index=False)
    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="events", db_index=False)
    event_id = models.UUIDField()
    # The hash this event grouped to, so an unmerge knows which events go back.
    grouping_hash = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    level = models.CharField(max_length=8, default="error")
    release = models.CharField(max_length=250, blank=True)
    environment = models.CharField(max_length=64, blank=True)
    user_hash = models.CharField(max_length=32, blank=True)
    payload = models.JSONField()

    class Meta:
        constraints = [
            # De-duplication: ingest looks the event id up first; this catches two copies of a
            # retried envelope racing. A partitioned table's unique keys must hold the
            # partition key, and a retry carries the same timestamp.
            models.UniqueConstraint(fields=["project", "event_id", "timestamp"], name="errorevent_unique_id"),
        ]
        # The issue page (latest event, timeline); retention goes by partition.
        indexes = [models.Index(fields=["issue", "-timestamp"], name="errorevent_issue_time")]


class ErrorIssueTally(models.Model):
    """An event not yet counted on its issue. Append-only at ingest; folded and deleted in batches."""

    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="+")
    timestamp = models.DateTimeField()
    release = models.CharField(max_length=250, blank=True)
    environment = models.CharField(max_length=64, blank=True)


class ErrorIssueHourly(models.Model):
    """An issue's events in one UTC hour, counted as their tallies fold (services/hourly.py).
    With the tallies still pending, these are exactly the issue's events per hour: what its
    sparklines read instead of grouping a hot issue's hundred thousand events on every view."""

    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "hour"], name="errorissuehourly_unique")]
        # Retention deletes by hour across all issues.
        indexes = [models.Index(fields=["hour"], name="errorissuehourly_hour")]


class ErrorIssueUser(models.Model):
    """A user an issue has affected, by hash: counting rows gives users affected exactly."""

    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="+", db_index=False)
    user_hash = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "user_hash"], name="errorissueuser_unique"),
        ]


class ErrorIssueSeenIn(models.Model):
    """A release or environment an issue was seen in, with when and how often."""

    class Dimension(models.TextChoices):
        RELEASE = "release"
        ENVIRONMENT = "environment"

    issue = models.ForeignKey(ErrorIssue, on_delete=models.CASCADE, related_name="seen_in", db_index=False)
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    value = models.CharField(max_length=250)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    event_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "error issue seen in"
        constraints = [
            models.UniqueConstraint(fields=["issue", "dimension", "value"], name="errorissueseenin_unique"),
        ]
        # The stream's release and environment filters.
        indexes = [models.Index(fields=["dimension", "value"], name="errorissueseenin_value")]


class EnvelopeOutcome(models.Model):
    """Items not stored, per project, day, category and reason: dropped by us (invalid,
    too large, throttled, unsupported) or reported discarded by the SDK (client_report)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="envelope_outcomes", db_index=False)
    day = models.DateField()
    category = models.CharField(max_length=32)
    reason = models.CharField(max_length=64)
    from_client = models.BooleanField(default=False)
    quantity = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "category", "reason", "from_client"], name="envelopeoutcome_unique"
            ),
        ]


class ErrorUserReport(models.Model):
    """What a user said about an error (sentry-sdk's user_report item or feedback event).

    It may arrive before its event; `issue` is filled in when either comes second."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="error_user_reports", db_index=False)
    issue = models.ForeignKey(ErrorIssue, null=True, blank=True, on_delete=models.CASCADE, related_name="user_reports")
    event_id = models.UUIDField()
    name = models.CharField(max_length=128, blank=True)
    email = models.CharField(max_length=256, blank=True)
    comments = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="erroruserreport_unique_event"),
        ]


class ReleaseHealth(models.Model):
    """Session counts for a release in one environment on one day (sentry-sdk's release health).

    Counted as sessions end: `sessions` when one starts, the others by how it ended."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="release_health", db_index=False)
    release = models.CharField(max_length=250)
    environment = models.CharField(max_length=64, blank=True)
    day = models.DateField()
    sessions = models.PositiveBigIntegerField(default=0)
    errored = models.PositiveBigIntegerField(default=0)  # ended with handled errors, not crashed
    crashed = models.PositiveBigIntegerField(default=0)
    abnormal = models.PositiveBigIntegerField(default=0)  # ended without a clean exit (killed, hung)

    class Meta:
        verbose_name_plural = "release health"
        constraints = [
            models.UniqueConstraint(fields=["project", "release", "environment", "day"], name="releasehealth_unique"),
        ]


class ReleaseHealthUser(models.Model):
    """A user (sentry-sdk's `did`, hashed) seen in sessions of a release, and whether one crashed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    release = models.CharField(max_length=250)
    environment = models.CharField(max_length=64, blank=True)
    user_hash = models.CharField(max_length=32)
    crashed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "release", "environment", "user_hash"], name="releasehealthuser_unique"
            ),
        ]


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"not a valid regular expression: {exc}") from exc


class ErrorClassificationRule(models.Model):
    """First match wins, by position; a rule without a project applies to every project.
    Patterns are case-insensitive regular expressions searched in the text; empty matches all."""

    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    type_pattern = models.CharField(
        max_length=300, blank=True, validators=[validate_regex], help_text="Matched against the exception types."
    )
    message_pattern = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_regex],
        help_text="Matched against the exception values and the message.",
    )
    tag_key = models.CharField(max_length=64, blank=True, help_text="The event must have this tag.")
    tag_value_pattern = models.CharField(max_length=300, blank=True, validators=[validate_regex])
    transaction_pattern = models.CharField(max_length=300, blank=True, validators=[validate_regex])
    severity = models.CharField(max_length=8, choices=IssueSeverity.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    should_alert = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not any((self.type_pattern, self.message_pattern, self.tag_key, self.transaction_pattern)):
            raise ValidationError("A rule needs at least one condition (type, message, tag or transaction).")


class FileChunk(models.Model):
    """A piece of an upload (sentry-cli's chunk upload), named by its SHA-1, kept until the
    file it belongs to is assembled (and a day at most when it never is)."""

    checksum = models.CharField(max_length=40, primary_key=True)
    data = models.BinaryField()
    created_at = models.DateTimeField()


class ArtifactBundle(models.Model):
    """A bundle of a project's built JavaScript and its source maps, as `sentry-cli sourcemaps
    upload` assembles it: found by the debug ids of its files, or by release, dist and URL."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artifact_bundles")
    checksum = models.CharField(max_length=40)  # SHA-1 of the whole uploaded archive
    bundle_id = models.CharField(max_length=64, blank=True)  # the archive's own debug_id
    release = models.CharField(max_length=250, blank=True)
    dist = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "checksum"], name="artifactbundle_unique_checksum"),
        ]
        indexes = [models.Index(fields=["project", "release", "dist"], name="artifactbundle_release")]

    def __str__(self) -> str:
        return f"{self.release or self.bundle_id or self.checksum[:12]}"


class ArtifactBundleFile(models.Model):
    """One file of a bundle: a minified source, its source map, or an original source."""

    class Type(models.TextChoices):
        MINIFIED_SOURCE = "minified_source"
        SOURCE_MAP = "source_map"
        SOURCE = "source"
        INDEXED_RAM_BUNDLE = "indexed_ram_bundle"

    bundle = models.ForeignKey(ArtifactBundle, on_delete=models.CASCADE, related_name="files", db_index=False)
    type = models.CharField(max_length=24, choices=Type.choices)
    url = models.CharField(max_length=1000)  # "~/static/app.min.js": path from any host
    debug_id = models.CharField(max_length=36, blank=True)
    sourcemap = models.CharField(max_length=1000, blank=True)  # a minified file's map, by URL
    content = models.BinaryField()

    class Meta:
        indexes = [
            models.Index(fields=["bundle", "url"], name="artifactbundlefile_url"),
            models.Index(fields=["debug_id", "type"], name="artifactbundlefile_debug_id"),
        ]

    def __str__(self) -> str:
        return self.url


class ErrorAttachment(models.Model):
    """A file an SDK sent with an event (an envelope's attachment items): a log, a screenshot,
    a feedback's picture. Kept with the event's id, so it finds its event whichever arrives
    first; text files are scrubbed as events are; dropped with events by retention."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField()
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=64, default="event.attachment")
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "event_id"], name="errorattachment_event")]

    def __str__(self) -> str:
        return self.name
