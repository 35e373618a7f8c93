"""Storing error events: the write path of ingest.

One event is one short transaction: it inserts the event, its tally, its user and its
release, then folds the issue's pending tallies into its counters (services.error_issues)
only if the issue is free and due; a request never waits for a hot issue's lock, and
tallies it leaves are counted by the next fold or the beat tick.
"""

import math
import time
from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.errors.classification import classify
from monitoring.errors.events import PreparedEvent
from monitoring.errors.partitions import events
from monitoring.models import (
    ErrorEvent, ErrorIssue, ErrorIssueTally, ErrorIssueUser, Project, Release,
)
from monitoring.services.error_classification import classification_rules
from monitoring.services.error_issues import error_issue_fold


def _issue_for(*, project: Project, event: PreparedEvent) -> int:
    """The id of the issue `event` groups into, made if new; a merged issue answers for its target."""
    found = (
        ErrorIssue.objects.filter(project=project, grouping_hash=event.grouping.hash)
        .values_list("id", "merged_into_id")
        .first()
    )
    if found is None:
        verdict = classify(event.payload, classification_rules(project))
        try:
            with transaction.atomic():
                issue = ErrorIssue.objects.create(
                    project=project, grouping_hash=event.grouping.hash, title=event.title, culprit=event.culprit,
                    type=event.type, level=event.level, first_seen=event.timestamp, last_seen=event.timestamp,
                    severity=verdict.severity if verdict else "", category=verdict.category if verdict else "",
                    should_alert=verdict.should_alert if verdict else False,
                )
            return issue.pk
        except IntegrityError:  # another request made it first
            found = ErrorIssue.objects.filter(project=project, grouping_hash=event.grouping.hash).values_list(
                "id", "merged_into_id"
            ).get()
    issue_id, merged_into_id = found
    return merged_into_id or issue_id


# What this process already wrote, so a busy issue does not repeat the same no-op inserts.
# Filled after commit; losing them (restart) only costs a redundant insert-or-ignore.
_known_releases: set[tuple[int, str]] = set()
_known_users: OrderedDict[tuple[int, str], None] = OrderedDict()
KNOWN_USERS = 50_000
_last_fold: dict[int, float] = {}


def _remember_user(key: tuple[int, str]) -> None:
    _known_users[key] = None
    if len(_known_users) > KNOWN_USERS:
        _known_users.popitem(last=False)


def _fold_due(issue_id: int) -> bool:
    """Fold at most once per ERRORS_FOLD_INTERVAL_SECONDS per issue and process: under load
    each fold counts a batch; whatever a skipped fold leaves, the next one or the beat tick counts."""
    now = time.monotonic()
    if now - _last_fold.get(issue_id, -math.inf) < settings.ERRORS_FOLD_INTERVAL_SECONDS:
        return False
    if len(_last_fold) > 10_000:
        _last_fold.clear()
    _last_fold[issue_id] = now
    return True


def error_event_store(*, project: Project, event: PreparedEvent, received_at) -> int | None:
    """Store `event`; the id of its issue, or None if the project already has this event id."""
    user_key = (0, "")
    try:
        with transaction.atomic():
            if ErrorEvent.objects.filter(project=project, event_id=event.event_id).exists():
                return None
            events.ensure([event.timestamp.date()])
            issue_id = _issue_for(project=project, event=event)
            ErrorEvent.objects.create(
                project=project, issue_id=issue_id, event_id=event.event_id,
                grouping_hash=event.grouping.hash, timestamp=event.timestamp, received_at=received_at,
                level=event.level, release=event.release, environment=event.environment,
                user_hash=event.user_hash, payload=event.payload,
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
            if _fold_due(issue_id):
                error_issue_fold(issue_id=issue_id)
    except IntegrityError:  # the same event, retried concurrently: the other copy is stored
        return None
    return issue_id


def error_events_retention_apply() -> int:
    """Drop events past ERRORS_RETENTION_DAYS (whole days on PostgreSQL); issues stay, with their counts."""
    return events.drop_before(timezone.now() - timedelta(days=settings.ERRORS_RETENTION_DAYS))
