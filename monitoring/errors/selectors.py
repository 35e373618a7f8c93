"""Reads behind the issue stream and the issue page, and the issues alert rules ask about.

Reading release health: crash-free sessions and users of a release.
"""

import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from monitoring.errors.models import ErrorIssueActivity, IssueSeverity
from monitoring.models import (
    ErrorEvent,
    ErrorIssue,
    ErrorIssueHourly,
    ErrorIssueSeenIn,
    ErrorIssueTally,
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
    return ErrorEvent.objects.filter(issue=issue).order_by("-timestamp", "-id").first()


def error_issue_event(issue: ErrorIssue, event_id: str) -> ErrorEvent | None:
    """One of the issue's events by its Sentry event id (the hex the SDK sent), or None.
    Looked up by project first, so the unique (project, event_id, timestamp) index serves it."""
    try:
        wanted = uuid.UUID(str(event_id))
    except ValueError:
        return None
    return ErrorEvent.objects.filter(project_id=issue.project_id, event_id=wanted, issue=issue).first()


@dataclass(frozen=True)
class EventNavigation:
    """The event ids to move to from the one shown; None where there is nowhere to go."""

    oldest: str | None
    previous: str | None
    next: str | None
    latest: str | None


def error_issue_event_navigation(issue: ErrorIssue, event: ErrorEvent) -> EventNavigation:
    """Oldest, previous, next and latest event around `event`, in (timestamp, id) order: four
    small queries on the (issue, -timestamp) index, however many events the issue has."""
    events = ErrorEvent.objects.filter(issue=issue)
    at, pk = event.timestamp, event.pk
    earlier = events.filter(Q(timestamp__lt=at) | Q(timestamp=at, id__lt=pk))
    later = events.filter(Q(timestamp__gt=at) | Q(timestamp=at, id__gt=pk))

    def first(rows: QuerySet[ErrorEvent], *order: str) -> str | None:
        found = rows.order_by(*order).values_list("event_id", flat=True).first()
        return found.hex if found is not None else None

    previous = first(earlier, "-timestamp", "-id")
    following = first(later, "timestamp", "id")
    return EventNavigation(
        # At either end there is no further to go; otherwise one query each finds the ends.
        oldest=first(earlier, "timestamp", "id") if previous else None,
        previous=previous,
        next=following,
        latest=first(later, "-timestamp", "-id") if following else None,
    )


def error_issue_tags(issue: ErrorIssue, *, top: int = 5) -> dict[str, list[tuple[str, int]]]:
    """For each tag key in the newest events, its most common values and how often."""
    counts: dict[str, Counter] = {}
    # Only the tags come back from the database, not the whole (large) payloads.
    tag_sets = ErrorEvent.objects.filter(issue=issue).order_by("-timestamp").values_list("payload__tags", flat=True)
    for tags in tag_sets[:TAG_SAMPLE]:
        pairs = tags.items() if isinstance(tags, dict) else (tags if isinstance(tags, list) else [])
        for pair in pairs:
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                counts.setdefault(str(pair[0]), Counter())[str(pair[1])] += 1
    return {key: values.most_common(top) for key, values in sorted(counts.items())}


# The tags a Sentry user looks for first, each read from where an SDK puts it.
BREAKDOWN_KEYS = ("release", "environment", "browser", "os", "url", "user")


@dataclass(frozen=True)
class TagBreakdown:
    """One tag's most common values with their counts, out of `total` events looked at."""

    key: str
    values: list[tuple[str, int]]
    total: int
    # True where counted over the issue's whole life; False where only the newest events were read.
    complete: bool


def _browser_or_os(tags: dict[str, str], contexts: Any, name: str) -> str:
    context = contexts.get(name) if isinstance(contexts, dict) else None
    if isinstance(context, dict) and context.get("name"):
        return " ".join(str(context[k]) for k in ("name", "version") if context.get(k))
    return tags.get(f"{name}.name") or tags.get(name) or ""


def _user_label(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    for field in ("email", "username", "id", "ip_address"):
        if user.get(field):
            return str(user[field])
    return ""


def _tag_pairs(tags: Any) -> dict[str, str]:
    pairs = tags.items() if isinstance(tags, dict) else (tags if isinstance(tags, list) else [])
    return {str(p[0]): str(p[1]) for p in pairs if isinstance(p, (list, tuple)) and len(p) == 2}


def error_issue_tag_breakdown(issue: ErrorIssue, *, top: int = 5) -> list[TagBreakdown]:
    """Top values of release, environment, browser, OS, URL and user, in two queries.

    Release and environment come from the issue's seen-in counters, over its whole life.
    The others live inside the payload, so they are read from the newest TAG_SAMPLE events
    only, and only the parts of the payload they come from."""
    seen: dict[str, Counter[str]] = {"release": Counter(), "environment": Counter()}
    for dimension, value, n in issue.seen_in.values_list("dimension", "value", "event_count"):
        seen[dimension][value] += n
    breakdown = [
        TagBreakdown(key, seen[key].most_common(top), sum(seen[key].values()), True)
        for key in ("release", "environment")
    ]
    rows = list(
        ErrorEvent.objects.filter(issue=issue)
        .order_by("-timestamp", "-id")
        .values_list("payload__tags", "payload__contexts", "payload__request__url", "payload__user")[:TAG_SAMPLE]
    )
    sampled: dict[str, Counter[str]] = {"browser": Counter(), "os": Counter(), "url": Counter(), "user": Counter()}
    for tags, contexts, url, user in rows:
        pairs = _tag_pairs(tags)
        found = {
            "browser": _browser_or_os(pairs, contexts, "browser"),
            "os": _browser_or_os(pairs, contexts, "os"),
            "url": (str(url) if url else pairs.get("url", "")).split("?", 1)[0],
            "user": _user_label(user),
        }
        for key, value in found.items():
            if value:
                sampled[key][value] += 1
    complete = len(rows) < TAG_SAMPLE
    breakdown += [TagBreakdown(key, sampled[key].most_common(top), len(rows), complete) for key in sampled]
    return breakdown


@dataclass(frozen=True)
class Sparkline:
    """Events per bucket, oldest first: (bucket start, count)."""

    points: list[tuple[datetime, int]]
    bucket: timedelta

    @property
    def total(self) -> int:
        return sum(n for _, n in self.points)


@dataclass(frozen=True)
class IssueSparklines:
    day: Sparkline  # 24 hourly buckets
    fortnight: Sparkline  # 14 daily buckets, by the portal's local day


SPARK_DAYS = 14


def error_issues_sparklines(issue_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, IssueSparklines]:
    """The last 24 hours by hour and the last 14 days by (local) day, for every issue asked
    about, in two queries whatever the number of events: each adds the issues' hourly counts
    (ErrorIssueHourly) to their tallies not folded yet, which together are exactly their
    events. Days are made of UTC hours: in a time zone half an hour off UTC, a day's edge
    is off by that half hour."""
    ids = list(issue_ids)
    if not ids:
        return {}
    end = (now or timezone.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    today = timezone.localdate(end - timedelta(microseconds=1))
    days = [today - timedelta(days=SPARK_DAYS - 1 - i) for i in range(SPARK_DAYS)]
    hours = [end - timedelta(hours=24 - i) for i in range(24)]
    local = timezone.get_current_timezone()

    def counts(since: datetime, bucket: Any) -> Any:
        """(issue, bucket start, events) from the hourly counts and the pending tallies."""
        folded = ErrorIssueHourly.objects.filter(issue_id__in=ids, hour__gte=since, hour__lt=end)
        pending = ErrorIssueTally.objects.filter(issue_id__in=ids, timestamp__gte=since, timestamp__lt=end)
        return (
            folded.annotate(bucket=bucket("hour"))
            .values("issue_id", "bucket")
            .annotate(n=Sum("count"))
            .values_list("issue_id", "bucket", "n")
            .union(
                pending.annotate(bucket=bucket("timestamp"))
                .values("issue_id", "bucket")
                .annotate(n=Count("*"))
                .values_list("issue_id", "bucket", "n"),
                all=True,
            )
        )

    hourly: dict[int, Counter[datetime]] = {i: Counter() for i in ids}
    daily: dict[int, Counter[date]] = {i: Counter() for i in ids}
    for issue_id, hour, n in counts(hours[0], lambda f: TruncHour(f, tzinfo=UTC)):
        hourly[issue_id][hour.astimezone(UTC)] += n
    for issue_id, day, n in counts(_local_midnight(days[0]), lambda f: TruncDay(f, tzinfo=local)):
        daily[issue_id][timezone.localdate(day)] += n
    return {
        issue_id: IssueSparklines(
            day=Sparkline([(h, hourly[issue_id][h]) for h in hours], timedelta(hours=1)),
            fortnight=Sparkline([(_local_midnight(d), daily[issue_id][d]) for d in days], timedelta(days=1)),
        )
        for issue_id in ids
    }


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass(frozen=True)
class FirstAndLast:
    """When the issue was first and last seen, and in which release (blank when none was sent)."""

    first_seen: datetime
    first_release: str
    last_seen: datetime
    last_release: str


def error_issue_first_and_last(issue: ErrorIssue) -> FirstAndLast:
    """From the seen-in counters, which outlive the events retention drops: two small queries."""
    releases = issue.seen_in.filter(dimension=ErrorIssueSeenIn.Dimension.RELEASE)
    first = releases.order_by("first_seen", "id").values_list("value", flat=True).first()
    last = releases.order_by("-last_seen", "-id").values_list("value", flat=True).first()
    return FirstAndLast(issue.first_seen, first or "", issue.last_seen, last or "")


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
    # The classification's verdict ("" when no rule matched): what alert rules route on.
    category: str = ""
    severity: str = ""


_COUNT_COLUMNS = ("id", "project__slug", "title", "level", "event_count", "category", "severity")
# Lowest first: "at least medium" is medium and everything after it.
SEVERITY_ORDER = tuple(IssueSeverity.values)


def severities_at_least(minimum: str) -> list[str]:
    return list(SEVERITY_ORDER[SEVERITY_ORDER.index(minimum) :])


def _event_counts(issues: QuerySet[ErrorIssue]) -> list[IssueEventCount]:
    rows = issues.order_by("id").values_list(*_COUNT_COLUMNS)
    return [IssueEventCount(*row) for row in rows]


def _scoped(
    project_id: int | None,
    should_alert_only: bool,
    categories: Collection[str] | None = None,
    min_severity: str | None = None,
) -> QuerySet[ErrorIssue]:
    issues = ErrorIssue.objects.exclude(status__in=[ErrorIssue.Status.MERGED, ErrorIssue.Status.IGNORED])
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    if should_alert_only:
        issues = issues.filter(should_alert=True)
    # Filters in the same query: routing by classification costs no extra round trip.
    if categories:
        issues = issues.filter(category__in=list(categories))
    if min_severity:
        issues = issues.filter(severity__in=severities_at_least(min_severity))
    return issues


def error_issues_new(
    *,
    project_id: int | None,
    since: datetime,
    until: datetime,
    should_alert_only: bool = False,
    categories: Collection[str] | None = None,
    min_severity: str | None = None,
) -> list[IssueEventCount]:
    """Issues first seen in [since, until), events counted over their whole life."""
    issues = _scoped(project_id, should_alert_only, categories, min_severity)
    return _event_counts(issues.filter(first_seen__gte=since, first_seen__lt=until))


def error_issues_regressed(
    *,
    project_id: int | None,
    since: datetime,
    until: datetime,
    should_alert_only: bool = False,
    categories: Collection[str] | None = None,
    min_severity: str | None = None,
) -> list[IssueEventCount]:
    """Issues that came back after being resolved, their regression in [since, until)."""
    return _event_counts(
        _scoped(project_id, should_alert_only, categories, min_severity).filter(
            is_regression=True, regressed_at__gte=since, regressed_at__lt=until
        )
    )


def error_issues_frequent(
    *,
    project_id: int | None,
    since: datetime,
    until: datetime,
    at_least: int,
    should_alert_only: bool = False,
    categories: Collection[str] | None = None,
    min_severity: str | None = None,
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
        replace(a, events=counts[a.issue_id])
        for a in _event_counts(_scoped(None, should_alert_only, categories, min_severity).filter(pk__in=list(counts)))
    ]


def error_event_counts(
    *, project_ids: Collection[int], windows: Collection[timedelta], until: datetime
) -> dict[tuple[int, timedelta], int]:
    """Each project's events (by event time) in each of the windows ending at `until` (an event
    stamped `until` itself counts: it is the newest), in one statement whatever the number of
    projects and windows: what a status page's error-rate components read."""
    if not project_ids or not windows:
        return {}
    widths = sorted(set(windows))
    counts = (
        ErrorEvent.objects.filter(
            project_id__in=list(project_ids), timestamp__gt=until - widths[-1], timestamp__lte=until
        )
        .values("project_id")
        .order_by()
        .annotate(**{f"w{i}": Count("id", filter=Q(timestamp__gt=until - w)) for i, w in enumerate(widths)})
        .values_list("project_id", *(f"w{i}" for i in range(len(widths))))
    )
    found = {(row[0], w): row[1 + i] for row in counts for i, w in enumerate(widths)}
    return {(p, w): found.get((p, w), 0) for p in project_ids for w in widths}


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
