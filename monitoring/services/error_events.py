"""Storing error events: the write path of ingest.

One event is one short transaction that inserts rows and updates none: the event, its
tally, its user, its release. The issue's counters are folded from the tallies afterwards
(services.error_issues), by whichever request or task gets the issue's lock first.
"""

from dataclasses import fields
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.errors.classification import Rule, classify
from monitoring.errors.events import PreparedEvent
from monitoring.errors.partitions import events_drop_before, partition_ensure
from monitoring.models import (
    ErrorClassificationRule, ErrorEvent, ErrorIssue, ErrorIssueTally, ErrorIssueUser, ErrorUserReport, Project, Release,
)
from monitoring.services.error_issues import error_issue_fold


def _rules(project: Project) -> list[Rule]:
    """The project's rules and everyone's, in order. Read only when an issue is new."""
    rows = ErrorClassificationRule.objects.filter(Q(project=project) | Q(project=None), enabled=True).values(
        *(f.name for f in fields(Rule))
    )
    return [Rule(**row) for row in rows]


def _issue_for(*, project: Project, event: PreparedEvent) -> int:
    """The id of the issue `event` groups into, made if new; a merged issue answers for its target."""
    found = (
        ErrorIssue.objects.filter(project=project, grouping_hash=event.grouping.hash)
        .values_list("id", "merged_into_id")
        .first()
    )
    if found is None:
        verdict = classify(event.payload, _rules(project))
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


def error_event_store(*, project: Project, event: PreparedEvent, received_at) -> int | None:
    """Store `event`; the id of its issue, or None if the project already has this event id."""
    with transaction.atomic():
        if ErrorEvent.objects.filter(project=project, event_id=event.event_id).exists():
            return None
        partition_ensure(event.timestamp.date())
        issue_id = _issue_for(project=project, event=event)
        try:
            with transaction.atomic():
                ErrorEvent.objects.create(
                    project=project, issue_id=issue_id, event_id=event.event_id,
                    grouping_hash=event.grouping.hash, timestamp=event.timestamp, received_at=received_at,
                    level=event.level, release=event.release, environment=event.environment,
                    user_hash=event.user_hash, payload=event.payload,
                )
        except IntegrityError:  # the same event, retried concurrently
            return None
        ErrorIssueTally.objects.create(
            issue_id=issue_id, timestamp=event.timestamp, release=event.release, environment=event.environment
        )
        if event.user_hash:
            ErrorIssueUser.objects.bulk_create(
                [ErrorIssueUser(issue_id=issue_id, user_hash=event.user_hash)], ignore_conflicts=True
            )
        # A user report sent before its event waits for it.
        ErrorUserReport.objects.filter(project=project, event_id=event.event_id, issue=None).update(issue_id=issue_id)
        if event.release:
            Release.objects.bulk_create(
                [Release(project=project, version=event.release, first_seen=event.timestamp)], ignore_conflicts=True
            )
    # After the commit, and never waiting: if another request is folding this issue, it or
    # the next one (or the sweep task) counts this event.
    error_issue_fold(issue_id=issue_id)
    return issue_id


def error_events_retention_apply() -> int:
    """Drop events past ERRORS_RETENTION_DAYS (whole days on PostgreSQL); issues stay, with their counts."""
    return events_drop_before(timezone.now() - timedelta(days=settings.ERRORS_RETENTION_DAYS))
