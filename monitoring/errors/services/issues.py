"""An issue's life: counters folded from tallies in batches, status changes, regressions,
snoozes, merging and unmerging.

Every change, whether a person's or Lookout's own (a regression, a snooze running out), writes
its ErrorIssueActivity row in the transaction of the change, so the issue's timeline never
misses a change nor shows one that was rolled back. A person's writes take a keyword-only
`actor`: whoever acted, or None for a script acting for no one.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from monitoring.errors.models import ErrorIssueActivity
from monitoring.errors.services.hourly import error_issue_hours_add, error_issue_hours_rebuild
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueSeenIn, ErrorIssueTally, ErrorIssueUser, Release

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

Status = ErrorIssue.Status
Action = ErrorIssueActivity.Action
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


def _regression(issue: ErrorIssue, tallies: list[ErrorIssueTally]) -> ErrorIssueTally | None:
    """The first of `tallies` that reopens the issue as a regression, if one does."""
    if issue.status == Status.RESOLVED:
        # A resolution of unknown time (set outside the services) counts every event after it.
        since = issue.status_changed_at
        return next((t for t in tallies if since is None or t.timestamp > since), None)
    if issue.status == Status.RESOLVED_NEXT_RELEASE:
        # Events from the release current at resolution were expected, and so are those of
        # older releases still running somewhere; one from a newer release was not.
        others = {t.release for t in tallies if t.release and t.release != issue.resolved_in_release}
        newer = _newer_releases(issue, others) if others else set()
        return next((t for t in tallies if t.release in newer), None)
    return None


def _newer_releases(issue: ErrorIssue, versions: set[str]) -> set[str]:
    """Which of `versions` were made after the release the issue was resolved in (all of
    them when that one is unknown): releases are ordered by when they were made."""
    made = dict(
        Release.objects.filter(
            project_id=issue.project_id, version__in=[*versions, issue.resolved_in_release]
        ).values_list("version", "first_seen")
    )
    resolved_at = made.get(issue.resolved_in_release)
    if resolved_at is None:
        return versions
    return {v for v in versions if v not in made or made[v] > resolved_at}


def _snooze_over(issue: ErrorIssue, now: datetime) -> bool:
    if issue.status != Status.IGNORED:
        return False
    if issue.snooze_until is not None and now >= issue.snooze_until:
        return True
    return (
        issue.snooze_event_count is not None
        and issue.event_count - (issue.snooze_count_base or 0) >= issue.snooze_event_count
    )


def _snooze_detail(until: datetime | None, events: int | None) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if until is not None:
        detail["until"] = until.isoformat()
    if events is not None:
        detail["events"] = events
    return detail


def _other(issue: ErrorIssue) -> dict[str, Any]:
    """The other issue of a merge or unmerge, for the timeline: its title as it was then."""
    return {"issue": issue.pk, "title": issue.title}


def _activity(
    issue: ErrorIssue | int,
    action: str,
    *,
    actor: "User | None",
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> ErrorIssueActivity:
    """An unsaved row; the caller saves it in the transaction of the change."""
    issue_id = issue if isinstance(issue, int) else issue.pk
    return ErrorIssueActivity(issue_id=issue_id, at=at, action=action, actor=actor, detail=detail or {})


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
        error_issue_hours_add(issue_id=issue_id, timestamps=(t.timestamp for t in tallies))
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
        happened: ErrorIssueActivity | None = None
        if (regressing := _regression(issue, tallies)) is not None:
            detail = {"release": regressing.release} if regressing.release else {}
            happened = _activity(issue, Action.REGRESSED, actor=None, at=now, detail=detail)
            _set_status(issue, Status.UNRESOLVED, now)
            issue.is_regression, issue.regressed_at = True, now
        elif _snooze_over(issue, now):
            detail = _snooze_detail(issue.snooze_until, issue.snooze_event_count)
            happened = _activity(issue, Action.SNOOZE_ENDED, actor=None, at=now, detail=detail)
            _set_status(issue, Status.UNRESOLVED, now)
        issue.save(update_fields=["event_count", "first_seen", "last_seen", "users_affected", *_STATUS_FIELDS])
        if happened is not None:
            happened.save()
    return True


def error_issues_fold_pending() -> int:
    """Fold every issue with pending tallies (the sweep behind ingest's own folds). Returns issues folded."""
    pending = ErrorIssueTally.objects.values_list("issue_id", flat=True).distinct()
    return sum(error_issue_fold(issue_id=issue_id) for issue_id in list(pending))


def error_issues_wake_snoozed() -> int:
    """Issues snoozed until a time now past are unresolved again, events or not. One that
    another transaction holds is skipped, not waited for: a fold wakes it too, or the next tick."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            ErrorIssue.objects.filter(status=Status.IGNORED, snooze_until__lte=now)
            .select_for_update(no_key=True, skip_locked=True)
            .only("id", "snooze_until", "snooze_event_count")
        )
        if not due:
            return 0
        ErrorIssue.objects.filter(pk__in=[i.pk for i in due]).update(
            status=Status.UNRESOLVED,
            status_changed_at=now,
            snooze_until=None,
            snooze_event_count=None,
            snooze_count_base=None,
        )
        ErrorIssueActivity.objects.bulk_create(
            [
                _activity(
                    i,
                    Action.SNOOZE_ENDED,
                    actor=None,
                    at=now,
                    detail=_snooze_detail(i.snooze_until, i.snooze_event_count),
                )
                for i in due
            ]
        )
    return len(due)


def _change_status(
    issue: ErrorIssue,
    status: str,
    *,
    action: str,
    actor: "User | None",
    detail: dict[str, Any] | None = None,
    **fields: object,
) -> ErrorIssue:
    with transaction.atomic():
        locked = _locked(issue.pk, wait=True)
        if locked is None:
            raise ErrorIssue.DoesNotExist(f"error issue {issue.pk} no longer exists")
        if locked.status == Status.MERGED:
            raise ValueError("a merged issue changes status through the issue it was merged into")
        now = timezone.now()
        _set_status(locked, status, now)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=_STATUS_FIELDS)
        _activity(locked, action, actor=actor, at=now, detail=detail).save()
    return locked


def error_issue_resolve(*, issue: ErrorIssue, actor: "User | None", in_next_release: bool = False) -> ErrorIssue:
    if in_next_release:
        # "The next release" is the one after the project's newest: also one made by
        # `sentry-cli releases new` before any of its events, and not only the issue's.
        latest = (
            Release.objects.filter(project_id=issue.project_id)
            .order_by("-first_seen", "-id")
            .values_list("version", flat=True)
            .first()
        )
        # With no release known, "next release" cannot be told apart: it is resolved now.
        if latest is not None:
            return _change_status(
                issue,
                Status.RESOLVED_NEXT_RELEASE,
                action=Action.RESOLVED_NEXT_RELEASE,
                actor=actor,
                detail={"release": latest},
                resolved_in_release=latest,
                is_regression=False,
            )
    return _change_status(issue, Status.RESOLVED, action=Action.RESOLVED, actor=actor, is_regression=False)


def resolve_in_next_release(issue: ErrorIssue, user: "User | None") -> ErrorIssue:
    """Resolved until an event of a release newer than the project's current one arrives
    (events of the current or older releases leave it resolved); plainly resolved when the
    project has no release yet."""
    return error_issue_resolve(issue=issue, actor=user, in_next_release=True)


def error_issue_unresolve(*, issue: ErrorIssue, actor: "User | None") -> ErrorIssue:
    return _change_status(issue, Status.UNRESOLVED, action=Action.UNRESOLVED, actor=actor)


def error_issue_ignore(
    *,
    issue: ErrorIssue,
    actor: "User | None",
    until: datetime | None = None,
    events: int | None = None,
) -> ErrorIssue:
    """Ignore for good, or snooze until a time or until `events` more events arrive."""
    if events is not None and events < 1:
        raise ValueError("events must be at least 1")
    error_issue_fold(issue_id=issue.pk, wait=True)  # so the event budget starts from a true count
    issue.refresh_from_db(fields=["event_count"])
    snoozed = until is not None or events is not None
    return _change_status(
        issue,
        Status.IGNORED,
        action=Action.SNOOZED if snoozed else Action.IGNORED,
        actor=actor,
        detail=_snooze_detail(until, events),
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
    error_issue_hours_rebuild([issue.pk])
    issue.save(update_fields=["event_count", "first_seen", "last_seen", "users_affected"])


def error_issue_merge(*, target: ErrorIssue, sources: Iterable[ErrorIssue], actor: "User | None") -> ErrorIssue:
    """Fold `sources` into `target`: their events move, their future events go to `target`.
    Both sides' timelines say so: the kept issue once per issue it took in."""
    source_ids = sorted({s.pk for s in sources} - {target.pk})
    with transaction.atomic():
        locked = list(
            ErrorIssue.objects.select_for_update(no_key=True).filter(pk__in=[target.pk, *source_ids]).order_by("pk")
        )
        target = next(i for i in locked if i.pk == target.pk)
        if target.status == Status.MERGED:
            raise ValueError("cannot merge into an issue that is itself merged")
        merged = [i for i in locked if i.pk != target.pk]
        if any(s.project_id != target.project_id for s in merged):
            raise ValueError("issues of different projects cannot be merged")
        now = timezone.now()
        ErrorEvent.objects.filter(issue_id__in=source_ids).update(issue=target)
        ErrorIssueTally.objects.filter(issue_id__in=source_ids).delete()  # the recount covers them
        error_issue_hours_rebuild(source_ids)  # their events are the target's now
        # One level only: what was merged into a source now points at the target.
        repointed = list(
            ErrorIssue.objects.filter(merged_into_id__in=source_ids)
            .exclude(pk__in=source_ids)
            .values_list("id", "merged_into_id")
        )
        ErrorIssue.objects.filter(merged_into_id__in=source_ids).update(merged_into=target)
        ErrorIssue.objects.filter(pk__in=source_ids).update(
            status=Status.MERGED, merged_into=target, status_changed_at=now
        )
        _recount(target)
        ErrorIssueActivity.objects.bulk_create(
            [_activity(target, Action.MERGED_IN, actor=actor, at=now, detail=_other(s)) for s in merged]
            + [_activity(s, Action.MERGED, actor=actor, at=now, detail=_other(target)) for s in merged]
            # Carried along with the issue they were merged into: they now live on in `target`.
            + [
                _activity(pk, Action.MERGED, actor=actor, at=now, detail={**_other(target), "via": via})
                for pk, via in repointed
            ]
        )
    return target


def error_issue_unmerge(*, issue: ErrorIssue, actor: "User | None") -> ErrorIssue:
    """Give a merged issue its own events back (those its grouping hash produced) and its own life."""
    with transaction.atomic():
        issue = ErrorIssue.objects.select_for_update(no_key=True).get(pk=issue.pk)
        if issue.merged_into_id is None:
            raise ValueError("this issue is not merged")
        target = ErrorIssue.objects.select_for_update(no_key=True).get(pk=issue.merged_into_id)
        ErrorEvent.objects.filter(issue=target, grouping_hash=issue.grouping_hash).update(issue=issue)
        now = timezone.now()
        issue.merged_into = None
        _set_status(issue, Status.UNRESOLVED, now)
        issue.save(update_fields=["merged_into", *_STATUS_FIELDS])
        _recount(issue)
        _recount(target)
        ErrorIssueActivity.objects.bulk_create(
            [
                _activity(issue, Action.UNMERGED, actor=actor, at=now, detail=_other(target)),
                _activity(target, Action.UNMERGED_OUT, actor=actor, at=now, detail=_other(issue)),
            ]
        )
    return issue


def error_issue_assign(*, issue: ErrorIssue, assignee: "User | None", actor: "User | None") -> None:
    """Set who looks after the issue; writes that column only, so counters folded meanwhile stay.
    Saving the issue page with the assignee unchanged records nothing."""
    with transaction.atomic():
        changed = ErrorIssue.objects.filter(pk=issue.pk).exclude(assignee=assignee).update(assignee=assignee)
        if changed:
            detail = {"assignee": assignee.get_username()} if assignee is not None else {}
            _activity(issue, Action.ASSIGNED, actor=actor, at=timezone.now(), detail=detail).save()
    issue.assignee = assignee
