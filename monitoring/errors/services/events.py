"""Storing error events: the write path of ingest.

One event is one short transaction: it inserts the event, its tally, its user and its
release (on PostgreSQL, for an issue that exists, one statement: services.event_insert).
The issue row exists (is visible) once that commits; its counters follow from
the tallies, folded by the beat tick (services.issues) and, at most once per
ERRORS_FOLD_INTERVAL_SECONDS per process, by a request for its own issue if that issue
is free. A request never waits for a hot issue's lock.
"""

import math
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists
from django.utils import timezone

from monitoring.errors.classification import classify
from monitoring.errors.events import PreparedEvent
from monitoring.errors.partitions import events
from monitoring.errors.services.attachments import error_attachments_retention_apply
from monitoring.errors.services.event_insert import error_event_insert
from monitoring.errors.services.issue_classification import classification_rules
from monitoring.errors.services.issues import error_issue_fold
from monitoring.models import (
    ErrorEvent,
    ErrorIssue,
    ErrorIssueHourly,
    ErrorIssueTally,
    ErrorIssueUser,
    Project,
    Release,
)


def _existing_issue(*, project: Project, event: PreparedEvent) -> tuple[int, bool] | None:
    """(the issue `event` groups into, whether the project already has this event id), or
    None if no issue has its hash yet. A merged issue answers for its target. Duplicates
    are asked in the same query: a round trip costs more than the lookup itself."""
    found = (
        ErrorIssue.objects.filter(project=project, grouping_hash=event.grouping.hash)
        .annotate(duplicate=Exists(ErrorEvent.objects.filter(project=project, event_id=event.event_id)))
        .values_list("id", "merged_into_id", "duplicate")
        .first()
    )
    if found is None:
        return None
    issue_id, merged_into_id, duplicate = found
    return merged_into_id or issue_id, duplicate


def _issue_for(*, project: Project, event: PreparedEvent) -> int | None:
    """The id of the issue `event` groups into, made if new; None if the project already
    has this event id."""
    found = _existing_issue(project=project, event=event)
    if found is None:
        # The same event id may have grouped elsewhere (rules changed meanwhile).
        if ErrorEvent.objects.filter(project=project, event_id=event.event_id).exists():
            return None
        verdict = classify(event.payload, classification_rules(project))
        try:
            with transaction.atomic():
                issue = ErrorIssue.objects.create(
                    project=project,
                    grouping_hash=event.grouping.hash,
                    title=event.title,
                    culprit=event.culprit,
                    type=event.type,
                    level=event.level,
                    first_seen=event.timestamp,
                    last_seen=event.timestamp,
                    severity=verdict.severity if verdict else "",
                    category=verdict.category if verdict else "",
                    should_alert=verdict.should_alert if verdict else False,
                )
            return issue.pk
        except IntegrityError:  # another request made it first
            found = _existing_issue(project=project, event=event)
            if found is None:  # no twin: something else was refused, which the caller handles
                raise
    issue_id, duplicate = found
    return None if duplicate else issue_id


# What this process already wrote, so a busy issue does not repeat the same no-op inserts.
# Filled after commit; losing them (restart) only costs a redundant insert-or-ignore.
_known_releases: set[tuple[int, str]] = set()
_known_users: OrderedDict[tuple[int, str], None] = OrderedDict()  # (issue, user hash)
_issue_of_hash: OrderedDict[tuple[int, str], int] = OrderedDict()  # (project, grouping hash) -> issue
REMEMBERED = 50_000
_last_fold = -math.inf


def _remember_user(key: tuple[int, str]) -> None:
    _known_users[key] = None
    if len(_known_users) > REMEMBERED:
        _known_users.popitem(last=False)


def _remember_issue(key: tuple[int, str], issue_id: int) -> None:
    _issue_of_hash[key] = issue_id
    if len(_issue_of_hash) > REMEMBERED:
        _issue_of_hash.popitem(last=False)


def _fold_due() -> bool:
    """At most one inline fold per ERRORS_FOLD_INTERVAL_SECONDS per process, whichever the
    issue: a fold costs as much as storing the event, and with events spread over many
    issues a per-issue budget would fold on nearly every request. The busiest issues are
    the likeliest to be folded here; the beat tick counts what is left."""
    global _last_fold
    now = time.monotonic()
    if now - _last_fold < settings.ERRORS_FOLD_INTERVAL_SECONDS:
        return False
    _last_fold = now
    return True


def error_event_store(*, project: Project, event: PreparedEvent, received_at: datetime) -> int | None:
    """Store `event`; the id of its issue, or None if the project already has this event id."""
    if connection.vendor == "postgresql":
        events.ensure([event.timestamp.date()])
        issue_id = _store_for_issue(project, event, received_at)
        if issue_id is not _Unwritten.NO_ISSUE:
            return issue_id
    return _store_in_transaction(project, event, received_at)


class _Unwritten(Enum):
    NO_ISSUE = "no issue has the event's grouping hash yet"


def _store_for_issue(
    project: Project, event: PreparedEvent, received_at: datetime
) -> int | None | Literal[_Unwritten.NO_ISSUE]:
    """One statement for an event whose issue exists; NO_ISSUE (nothing written) if none does."""
    hash_key, release_key = (project.pk, event.grouping.hash), (project.pk, event.release)
    # The issue is found by the statement itself; this process's last answer for the hash
    # only says whether its user is known already.
    guess = _issue_of_hash.get(hash_key)
    with_user = bool(event.user_hash) and (guess, event.user_hash) not in _known_users
    with_release = bool(event.release) and release_key not in _known_releases
    inserted = error_event_insert(
        project_id=project.pk, event=event, received_at=received_at, with_user=with_user, with_release=with_release
    )
    if inserted.issue_id is None:
        return _Unwritten.NO_ISSUE
    issue_id = inserted.issue_id
    if not inserted.stored:
        return None  # the project has this event id already (a retry, or its concurrent twin)
    if issue_id != guess:  # first sight here, or the hash moved (merged, deleted and regrouped)
        _remember_issue(hash_key, issue_id)
        if event.user_hash and not with_user:
            ErrorIssueUser.objects.bulk_create(
                [ErrorIssueUser(issue_id=issue_id, user_hash=event.user_hash)], ignore_conflicts=True
            )
    if event.user_hash:
        _remember_user((issue_id, event.user_hash))
    if with_release:
        _known_releases.add(release_key)
    if _fold_due():  # its own transaction, after the event's: the event is stored whatever the fold does
        error_issue_fold(issue_id=issue_id)
    return issue_id


def _store_in_transaction(project: Project, event: PreparedEvent, received_at: datetime) -> int | None:
    try:
        with transaction.atomic():
            events.ensure([event.timestamp.date()])
            issue_id = _issue_for(project=project, event=event)
            if issue_id is None:
                return None
            ErrorEvent.objects.create(
                project=project,
                issue_id=issue_id,
                event_id=event.event_id,
                grouping_hash=event.grouping.hash,
                timestamp=event.timestamp,
                received_at=received_at,
                level=event.level,
                release=event.release,
                environment=event.environment,
                user_hash=event.user_hash,
                payload=event.payload,
            )
            ErrorIssueTally.objects.create(
                issue_id=issue_id, timestamp=event.timestamp, release=event.release, environment=event.environment
            )
            user_key = (issue_id, event.user_hash)
            if event.user_hash and user_key not in _known_users:
                ErrorIssueUser.objects.bulk_create(
                    [ErrorIssueUser(issue_id=issue_id, user_hash=event.user_hash)], ignore_conflicts=True
                )
                transaction.on_commit(lambda: _remember_user(user_key))
            release_key = (project.pk, event.release)
            if event.release and release_key not in _known_releases:
                Release.objects.bulk_create(
                    [Release(project=project, version=event.release, first_seen=event.timestamp)],
                    ignore_conflicts=True,
                )
                transaction.on_commit(lambda: _known_releases.add(release_key))
            # In the same transaction, so one commit (one WAL flush) serves both, and never
            # waiting: if another request holds the issue, it or the next fold (or the beat
            # tick) counts this event.
            if _fold_due():
                error_issue_fold(issue_id=issue_id)
    except IntegrityError:  # the same event, retried concurrently: the other copy is stored
        return None
    return issue_id


def error_events_retention_apply() -> int:
    """Drop events past ERRORS_RETENTION_DAYS (whole days on PostgreSQL), their attachments
    and their hourly counts; issues stay, with their totals."""
    cutoff = timezone.now() - timedelta(days=settings.ERRORS_RETENTION_DAYS)
    error_attachments_retention_apply(before=cutoff)
    ErrorIssueHourly.objects.filter(hour__lt=cutoff).delete()
    return events.drop_before(cutoff)
