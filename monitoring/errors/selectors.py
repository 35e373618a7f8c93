"""Reads behind the issue stream and the issue page, and the issues alert rules ask about.

Reading release health: crash-free sessions and users of a release.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from monitoring.errors.models import ErrorIssueActivity
from monitoring.models import (
    ErrorEvent,
    ErrorIssue,
    ErrorIssueSeenIn,
    Project,
    Release,
    ReleaseHealth,
    ReleaseHealthUser,
)

# The tag distribution is read from the newest events only: tags live inside the JSON
# payload, and an issue page must not scan a hot issue's whole history.
TAG_SAMPLE = 500
# An issue that keeps regressing could fill its page with its timeline; the newest tell the story.
ACTIVITY_SHOWN = 100


def error_issue_stream(
    *,
    project_id: int | None = None,
    status: str | None = None,
    release: str | None = None,
    environment: str | None = None,
    level: str | None = None,
    sort: str = "last_seen",
) -> QuerySet[ErrorIssue]:
    issues = ErrorIssue.objects.exclude(status=ErrorIssue.Status.MERGED).select_related("project")
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    if status:
        issues = issues.filter(status=status)
    if level:
        issues = issues.filter(level=level)
    for dimension, value in (
        (ErrorIssueSeenIn.Dimension.RELEASE, release),
        (ErrorIssueSeenIn.Dimension.ENVIRONMENT, environment),
    ):
        if value:
            issues = issues.filter(seen_in__dimension=dimension, seen_in__value=value)
    order = {"last_seen": "-last_seen", "frequency": "-event_count", "users": "-users_affected"}[sort]
    return issues.order_by(order, "-id")


def error_issue_latest_event(issue: ErrorIssue) -> ErrorEvent | None:
    return ErrorEvent.objects.filter(issue=issue).order_by("-timestamp").first()


def error_issue_tags(issue: ErrorIssue, *, top: int = 5) -> dict[str, list[tuple[str, int]]]:
    """For each tag key in the newest events, its most common values and how often."""
    counts: dict[str, Counter] = {}
    payloads = ErrorEvent.objects.filter(issue=issue).order_by("-timestamp").values_list("payload", flat=True)
    for payload in payloads[:TAG_SAMPLE]:
        tags = payload.get("tags") if isinstance(payload, dict) else None
        pairs = tags.items() if isinstance(tags, dict) else (tags if isinstance(tags, list) else [])
        for pair in pairs:
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                counts.setdefault(str(pair[0]), Counter())[str(pair[1])] += 1
    return {key: values.most_common(top) for key, values in sorted(counts.items())}


def error_issue_hourly_events(
    issue: ErrorIssue, *, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Events per hour over the last `hours`, oldest first, empty hours included."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    begin = end - timedelta(hours=hours)
    per_hour = dict(
        ErrorEvent.objects.filter(issue=issue, timestamp__gte=begin, timestamp__lt=end)
        .annotate(hour=TruncHour("timestamp"))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    return [(begin + timedelta(hours=i), per_hour.get(begin + timedelta(hours=i), 0)) for i in range(hours)]


def error_issue_activity(issue: ErrorIssue, *, limit: int = ACTIVITY_SHOWN) -> list[ErrorIssueActivity]:
    """The issue's timeline, newest first, each with who acted: one query however long."""
    rows = ErrorIssueActivity.objects.filter(issue=issue).select_related("actor").order_by("-at", "-id")
    return list(rows[:limit])


@dataclass(frozen=True)
class IssueEventCount:
    """An issue and how many events it had in the window asked about (or in all, where said)."""

    issue_id: int
    project_slug: str
    title: str
    level: str
    events: int


def _event_counts(issues: QuerySet[ErrorIssue]) -> list[IssueEventCount]:
    rows = issues.order_by("id").values_list("id", "project__slug", "title", "level", "event_count")
    return [IssueEventCount(*row) for row in rows]


def _scoped(project_id: int | None, should_alert_only: bool) -> QuerySet[ErrorIssue]:
    issues = ErrorIssue.objects.exclude(status__in=[ErrorIssue.Status.MERGED, ErrorIssue.Status.IGNORED])
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    if should_alert_only:
        issues = issues.filter(should_alert=True)
    return issues


def error_issues_new(
    *, project_id: int | None, since: datetime, until: datetime, should_alert_only: bool = False
) -> list[IssueEventCount]:
    """Issues first seen in [since, until), events counted over their whole life."""
    return _event_counts(_scoped(project_id, should_alert_only).filter(first_seen__gte=since, first_seen__lt=until))


def error_issues_regressed(
    *, project_id: int | None, since: datetime, until: datetime, should_alert_only: bool = False
) -> list[IssueEventCount]:
    """Issues that came back after being resolved, their regression in [since, until)."""
    return _event_counts(
        _scoped(project_id, should_alert_only).filter(
            is_regression=True, regressed_at__gte=since, regressed_at__lt=until
        )
    )


def error_issues_frequent(
    *, project_id: int | None, since: datetime, until: datetime, at_least: int, should_alert_only: bool = False
) -> list[IssueEventCount]:
    """Issues with at least `at_least` events in [since, until), counted from the events
    themselves (by event time), with that count."""
    events = ErrorEvent.objects.filter(timestamp__gte=since, timestamp__lt=until)
    if project_id is not None:
        events = events.filter(project_id=project_id)
    counts = dict(
        events.values("issue_id").annotate(n=Count("id")).filter(n__gte=at_least).values_list("issue_id", "n")
    )
    if not counts:
        return []
    return [
        IssueEventCount(a.issue_id, a.project_slug, a.title, a.level, counts[a.issue_id])
        for a in _event_counts(_scoped(None, should_alert_only).filter(pk__in=list(counts)))
    ]


@dataclass(frozen=True)
class Health:
    sessions: int
    crashed: int
    errored: int
    abnormal: int
    users: int
    crashed_users: int

    @property
    def crash_free_sessions(self) -> float | None:
        return 1 - self.crashed / self.sessions if self.sessions else None

    @property
    def crash_free_users(self) -> float | None:
        return 1 - self.crashed_users / self.users if self.users else None


def release_health(*, project: Project, release: str, environment: str | None = None) -> Health:
    scope = {"project": project, "release": release}
    if environment is not None:
        scope["environment"] = environment
    sums = ReleaseHealth.objects.filter(**scope).aggregate(
        sessions=Sum("sessions"), crashed=Sum("crashed"), errored=Sum("errored"), abnormal=Sum("abnormal")
    )
    users = ReleaseHealthUser.objects.filter(**scope).aggregate(
        all=Count("id"), crashed=Count("id", filter=Q(crashed=True))
    )
    return Health(**{k: v or 0 for k, v in sums.items()}, users=users["all"], crashed_users=users["crashed"])


def latest_release(*, project: Project) -> str | None:
    """The release first seen last: what "the current release" means to an alert rule."""
    releases = Release.objects.filter(project=project).order_by("-first_seen", "-id")
    return releases.values_list("version", flat=True).first()
