"""An issue's life: counters folded from tallies in batches, status changes, regressions,
snoozes, merging and unmerging."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueSeenIn, ErrorIssueTally, ErrorIssueUser

Status = ErrorIssue.Status
FOLD_BATCH = 5_000


def _locked(issue_id: int, *, wait: bool) -> ErrorIssue | None:
    # FOR NO KEY UPDATE, not FOR UPDATE: ingest's foreign-key checks on the issue (event,
    # tally, user rows) take KEY SHARE locks, which only a FOR UPDATE would make wait.
    return ErrorIssue.objects.filter(pk=issue_id).select_for_update(no_key=True, skip_locked=not wait).first()


def _add_seen_in(issue: ErrorIssue, rows: Iterable[tuple[str, str, datetime, datetime, int]]) -> None:
    """Fold (dimension, value, first, last, count) into the issue's seen-in rows."""
    rows = list(rows)
    if not rows:
        return
    existing = {
        (s.dimension, s.value): s for s in ErrorIssueSeenIn.objects.filter(issue=issue, value__in={r[1] for r in rows})
    }
    new, changed = [], []
    for dimension, value, first, last, count in rows:
        seen = existing.get((dimension, value))
        if seen is None:
            new.append(
                ErrorIssueSeenIn(
                    issue=issue, dimension=dimension, value=value, first_seen=first, last_seen=last, event_count=count
                )
            )
        else:
            seen.first_seen, seen.last_seen = min(seen.first_seen, first), max(seen.last_seen, last)
            seen.event_count += count
            changed.append(seen)
    ErrorIssueSeenIn.objects.bulk_create(new)
    ErrorIssueSeenIn.objects.bulk_update(changed, ["first_seen", "last_seen", "event_count"])


def _regresses(issue: ErrorIssue, tallies: list[ErrorIssueTally]) -> bool:
    if issue.status == Status.RESOLVED:
        return any(t.timestamp > issue.status_changed_at for t in tallies)
    if issue.status == Status.RESOLVED_NEXT_RELEASE:
        # Events from the release current at resolution were expected; a newer one was not.
        return any(t.release and t.release != issue.resolved_in_release for t in tallies)
    return False


def _snooze_over(issue: ErrorIssue, now: datetime) -> bool:
    if issue.status != Status.IGNORED:
        return False
    if issue.snooze_until is not None and now >= issue.snooze_until:
        return True
    return (
        issue.snooze_event_count is not None
        and issue.event_count - (issue.snooze_count_base or 0) >= issue.snooze_event_count
    )


def _set_status(issue: ErrorIssue, status: str, now: datetime) -> None:
    issue.status, issue.status_changed_at = status, now
    issue.snooze_until = issue.snooze_event_count = issue.snooze_count_base = None
    if status != Status.RESOLVED_NEXT_RELEASE:
        issue.resolved_in_release = ""


_STATUS_FIELDS = [
    "status",
    "status_changed_at",
    "snooze_until",
    "snooze_event_count",
    "snooze_count_base",
    "resolved_in_release",
    "is_regression",
    "regressed_at",
]


def error_issue_fold(*, issue_id: int, wait: bool = False) -> bool:
    """Count the issue's pending tallies into it. Without `wait`, gives up at once (False)
    when another transaction holds the issue: that one, or a later fold, counts them."""
    now = timezone.now()
    with transaction.atomic():
        issue = _locked(issue_id, wait=wait)
        if issue is None:
            return False
        tallies = list(ErrorIssueTally.objects.filter(issue_id=issue_id).order_by("id")[:FOLD_BATCH])
        if not tallies:
            return True
        ErrorIssueTally.objects.filter(id__in=[t.id for t in tallies]).delete()
        issue.event_count += len(tallies)
        issue.first_seen = min(issue.first_seen, *(t.timestamp for t in tallies))
        issue.last_seen = max(issue.last_seen, *(t.timestamp for t in tallies))
        issue.users_affected = ErrorIssueUser.objects.filter(issue_id=issue_id).count()
        per_value: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for t in tallies:
            if t.release:
                per_value[(ErrorIssueSeenIn.Dimension.RELEASE, t.release)].append(t.timestamp)
            if t.environment:
                per_value[(ErrorIssueSeenIn.Dimension.ENVIRONMENT, t.environment)].append(t.timestamp)
        _add_seen_in(issue, ((d, v, min(ts), max(ts), len(ts)) for (d, v), ts in per_value.items()))
        if _regresses(issue, tallies):
            _set_status(issue, Status.UNRESOLVED, now)
            issue.is_regression, issue.regressed_at = True, now
        elif _snooze_over(issue, now):
            _set_status(issue, Status.UNRESOLVED, now)
        issue.save(update_fields=["event_count", "first_seen", "last_seen", "users_affected", *_STATUS_FIELDS])
    return True


def error_issues_fold_pending() -> int:
    """Fold every issue with pending tallies (the sweep behind ingest's own folds). Returns issues folded."""
    pending = ErrorIssueTally.objects.values_list("issue_id", flat=True).distinct()
    return sum(error_issue_fold(issue_id=issue_id) for issue_id in list(pending))


def error_issues_wake_snoozed() -> int:
    """Issues snoozed until a time now past are unresolved again, events or not."""
    now = timezone.now()
    return ErrorIssue.objects.filter(status=Status.IGNORED, snooze_until__lte=now).update(
        status=Status.UNRESOLVED,
        status_changed_at=now,
        snooze_until=None,
        snooze_event_count=None,
        snooze_count_base=None,
    )


def _change_status(issue: ErrorIssue, status: str, **fields) -> ErrorIssue:
    with transaction.atomic():
        locked = _locked(issue.pk, wait=True)
        if locked.status == Status.MERGED:
            raise ValueError("a merged issue changes status through the issue it was merged into")
        _set_status(locked, status, timezone.now())
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=_STATUS_FIELDS)
    return locked


def error_issue_resolve(*, issue: ErrorIssue, in_next_release: bool = False) -> ErrorIssue:
    if not in_next_release:
        return _change_status(issue, Status.RESOLVED, is_regression=False)
    latest = (
        ErrorEvent.objects.filter(issue=issue)
        .exclude(release="")
        .order_by("-timestamp")
        .values_list("release", flat=True)
        .first()
    )
    if latest is None:  # no release known: "next release" cannot be told apart, resolve now
        return _change_status(issue, Status.RESOLVED, is_regression=False)
    return _change_status(issue, Status.RESOLVED_NEXT_RELEASE, resolved_in_release=latest, is_regression=False)


def error_issue_unresolve(*, issue: ErrorIssue) -> ErrorIssue:
    return _change_status(issue, Status.UNRESOLVED)


def error_issue_ignore(*, issue: ErrorIssue, until: datetime | None = None, events: int | None = None) -> ErrorIssue:
    """Ignore for good, or snooze until a time or until `events` more events arrive."""
    if events is not None and events < 1:
        raise ValueError("events must be at least 1")
    error_issue_fold(issue_id=issue.pk, wait=True)  # so the event budget starts from a true count
    issue.refresh_from_db(fields=["event_count"])
    return _change_status(
        issue,
        Status.IGNORED,
        snooze_until=until,
        snooze_event_count=events,
        snooze_count_base=issue.event_count if events is not None else None,
    )


def _recount(issue: ErrorIssue) -> None:
    """Counters, users and seen-in rebuilt from the events the issue now holds."""
    ErrorIssueTally.objects.filter(issue=issue).delete()
    events = ErrorEvent.objects.filter(issue=issue)
    totals = events.aggregate(n=Count("id"), first=Min("timestamp"), last=Max("timestamp"))
    issue.event_count = totals["n"]
    if totals["n"]:
        issue.first_seen, issue.last_seen = totals["first"], totals["last"]
    ErrorIssueUser.objects.filter(issue=issue).delete()
    users = events.exclude(user_hash="").values_list("user_hash", flat=True).distinct()
    ErrorIssueUser.objects.bulk_create([ErrorIssueUser(issue=issue, user_hash=h) for h in users])
    issue.users_affected = len(users)
    ErrorIssueSeenIn.objects.filter(issue=issue).delete()
    rows = []
    for dimension in ErrorIssueSeenIn.Dimension.values:
        grouped = (
            events.exclude(**{dimension: ""})
            .values(dimension)
            .annotate(first=Min("timestamp"), last=Max("timestamp"), n=Count("id"))
        )
        rows += [(dimension, g[dimension], g["first"], g["last"], g["n"]) for g in grouped]
    _add_seen_in(issue, rows)
    issue.save(update_fields=["event_count", "first_seen", "last_seen", "users_affected"])


def error_issue_merge(*, target: ErrorIssue, sources: Iterable[ErrorIssue]) -> ErrorIssue:
    """Fold `sources` into `target`: their events move, their future events go to `target`."""
    source_ids = sorted({s.pk for s in sources} - {target.pk})
    with transaction.atomic():
        locked = list(
            ErrorIssue.objects.select_for_update(no_key=True).filter(pk__in=[target.pk, *source_ids]).order_by("pk")
        )
        target = next(i for i in locked if i.pk == target.pk)
        if target.status == Status.MERGED:
            raise ValueError("cannot merge into an issue that is itself merged")
        sources = [i for i in locked if i.pk != target.pk]
        if any(s.project_id != target.project_id for s in sources):
            raise ValueError("issues of different projects cannot be merged")
        ErrorEvent.objects.filter(issue_id__in=source_ids).update(issue=target)
        ErrorIssueTally.objects.filter(issue_id__in=source_ids).delete()  # the recount covers them
        # One level only: what was merged into a source now points at the target.
        ErrorIssue.objects.filter(merged_into_id__in=source_ids).update(merged_into=target)
        ErrorIssue.objects.filter(pk__in=source_ids).update(
            status=Status.MERGED, merged_into=target, status_changed_at=timezone.now()
        )
        _recount(target)
    return target


def error_issue_unmerge(*, issue: ErrorIssue) -> ErrorIssue:
    """Give a merged issue its own events back (those its grouping hash produced) and its own life."""
    with transaction.atomic():
        issue = ErrorIssue.objects.select_for_update(no_key=True).get(pk=issue.pk)
        if issue.merged_into_id is None:
            raise ValueError("this issue is not merged")
        target = ErrorIssue.objects.select_for_update(no_key=True).get(pk=issue.merged_into_id)
        ErrorEvent.objects.filter(issue=target, grouping_hash=issue.grouping_hash).update(issue=issue)
        issue.merged_into = None
        _set_status(issue, Status.UNRESOLVED, timezone.now())
        issue.save(update_fields=["merged_into", *_STATUS_FIELDS])
        _recount(issue)
        _recount(target)
    return issue


def error_issue_assign(*, issue: ErrorIssue, assignee) -> None:
    """Set who looks after the issue; writes that column only, so counters folded meanwhile stay."""
    ErrorIssue.objects.filter(pk=issue.pk).update(assignee=assignee)
    issue.assignee = assignee
