"""Reads behind the issue stream and the issue page."""

from collections import Counter
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueSeenIn

# The tag distribution is read from the newest events only: tags live inside the JSON
# payload, and an issue page must not scan a hot issue's whole history.
TAG_SAMPLE = 500


def error_issue_stream(
    *, project_id: int | None = None, status: str | None = None, release: str | None = None,
    environment: str | None = None, level: str | None = None, sort: str = "last_seen",
) -> QuerySet[ErrorIssue]:
    issues = ErrorIssue.objects.exclude(status=ErrorIssue.Status.MERGED).select_related("project")
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    if status:
        issues = issues.filter(status=status)
    if level:
        issues = issues.filter(level=level)
    for dimension, value in ((ErrorIssueSeenIn.Dimension.RELEASE, release),
                             (ErrorIssueSeenIn.Dimension.ENVIRONMENT, environment)):
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


def error_issue_timeline(issue: ErrorIssue, *, hours: int = 24, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Events per hour over the last `hours`, oldest first, empty hours included."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    begin = end - timedelta(hours=hours)
    per_hour = dict(
        ErrorEvent.objects.filter(issue=issue, timestamp__gte=begin, timestamp__lt=end)
        .annotate(hour=TruncHour("timestamp")).values("hour").annotate(n=Count("id")).values_list("hour", "n")
    )
    return [(begin + timedelta(hours=i), per_hour.get(begin + timedelta(hours=i), 0)) for i in range(hours)]
