"""An issue's counters and statuses: regressions, releases, snoozes, merging."""

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from monitoring.errors.services.issues import (
    error_issue_fold,
    error_issue_ignore,
    error_issue_merge,
    error_issue_resolve,
    error_issue_unmerge,
    error_issue_unresolve,
    error_issues_fold_pending,
    error_issues_wake_snoozed,
)
from monitoring.errors.tasks import fold_error_issues
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueTally
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
Status = ErrorIssue.Status
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def project():
    return ProjectFactory()


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def refreshed(issue):
    issue.refresh_from_db()
    return issue


def test_counters_first_and_last_seen_users_releases_and_environments(project):
    with time_machine.travel(at(30), tick=False):
        store_event(project, received_at=at(10), user={"id": "a"}, release="1.0", environment="prod")
        store_event(project, received_at=at(5), user={"id": "b"}, release="1.1", environment="prod")
        issue = store_event(project, received_at=at(20), user={"id": "a"}, release="1.1")
    issue = refreshed(issue)
    assert (issue.event_count, issue.users_affected) == (3, 2)
    assert (issue.first_seen, issue.last_seen) == (at(5), at(20))
    seen = {(s.dimension, s.value): s.event_count for s in issue.seen_in.all()}
    assert seen == {("release", "1.0"): 1, ("release", "1.1"): 2, ("environment", "prod"): 2}
    assert not ErrorIssueTally.objects.exists()


def test_a_resolved_issue_seen_again_reopens_flagged_as_regression(project):
    issue = store_event(project)
    error_issue_resolve(issue=issue, actor=None)
    assert refreshed(issue).status == Status.RESOLVED
    store_event(project)
    issue = refreshed(issue)
    assert issue.status == Status.UNRESOLVED and issue.is_regression and issue.regressed_at


def test_resolved_in_next_release_ignores_the_current_release_and_reopens_on_a_newer_one(project):
    issue = store_event(project, release="2.0")
    issue = error_issue_resolve(issue=issue, in_next_release=True, actor=None)
    assert issue.status == Status.RESOLVED_NEXT_RELEASE and issue.resolved_in_release == "2.0"
    store_event(project, release="2.0")
    assert refreshed(issue).status == Status.RESOLVED_NEXT_RELEASE
    store_event(project, release="2.1")
    issue = refreshed(issue)
    assert issue.status == Status.UNRESOLVED and issue.is_regression


def test_ignored_for_good_stays_ignored(project):
    issue = error_issue_ignore(issue=store_event(project), actor=None)
    for _ in range(3):
        store_event(project)
    assert refreshed(issue).status == Status.IGNORED
    assert error_issue_unresolve(issue=issue, actor=None).status == Status.UNRESOLVED


def test_snoozed_until_n_more_events(project):
    issue = store_event(project)
    store_event(project)
    issue = error_issue_ignore(issue=issue, events=3, actor=None)
    store_event(project)
    store_event(project)
    assert refreshed(issue).status == Status.IGNORED
    store_event(project)
    issue = refreshed(issue)
    assert issue.status == Status.UNRESOLVED and not issue.is_regression
    with pytest.raises(ValueError):
        error_issue_ignore(issue=issue, events=0, actor=None)


def test_snoozed_until_a_time_wakes_up_then_with_or_without_events(project):
    with time_machine.travel(T0, tick=False) as clock:
        quiet = error_issue_ignore(issue=store_event(project), until=at(60), actor=None)
        busy = error_issue_ignore(issue=store_event(project, message="other"), until=at(60), actor=None)
        clock.move_to(at(59))
        store_event(project, message="other")
        assert error_issues_wake_snoozed() == 0
        assert refreshed(busy).status == Status.IGNORED
        clock.move_to(at(61))
        store_event(project, message="other")
        assert refreshed(busy).status == Status.UNRESOLVED
        assert error_issues_wake_snoozed() == 1
        assert refreshed(quiet).status == Status.UNRESOLVED


def test_merge_moves_events_and_routes_future_events_then_unmerge_gives_them_back(project):
    a = store_event(project, message="A", user={"id": "1"}, release="1.0")
    b = store_event(project, message="B", user={"id": "2"}, release="2.0")
    store_event(project, message="B", user={"id": "2"})
    error_issue_merge(target=a, sources=[b], actor=None)
    a, b = refreshed(a), refreshed(b)
    assert (a.event_count, a.users_affected) == (3, 2)
    assert b.status == Status.MERGED and b.merged_into == a
    assert {s.value for s in a.seen_in.filter(dimension="release")} == {"1.0", "2.0"}

    assert store_event(project, message="B").pk == a.pk  # B's hash now lands on A
    assert refreshed(a).event_count == 4

    error_issue_unmerge(issue=b, actor=None)
    a, b = refreshed(a), refreshed(b)
    assert (a.event_count, b.event_count) == (1, 3)
    assert (a.users_affected, b.users_affected) == (1, 1)
    assert b.status == Status.UNRESOLVED and b.merged_into is None
    assert store_event(project, message="B").pk == b.pk
    assert set(ErrorEvent.objects.filter(issue=a).values_list("grouping_hash", flat=True)) == {a.grouping_hash}


def test_an_issue_deleted_and_grouped_anew_counts_users_already_seen_by_the_old_one(project):
    old = store_event(project, message="C", user={"id": "1"})
    store_event(project, message="C", user={"id": "2"})
    old.delete()  # this process still remembers both users as written for the hash
    store_event(project, message="C", user={"id": "1"})
    new = store_event(project, message="C", user={"id": "2"})
    assert new.pk != old.pk
    assert (refreshed(new).event_count, refreshed(new).users_affected) == (2, 2)


def test_merge_refuses_other_projects_and_status_changes_on_merged_issues(project):
    a, b = store_event(project, message="A"), store_event(project, message="B")
    with pytest.raises(ValueError):
        error_issue_merge(target=a, sources=[store_event(ProjectFactory())], actor=None)
    error_issue_merge(target=a, sources=[b], actor=None)
    with pytest.raises(ValueError):
        error_issue_resolve(issue=b, actor=None)
    with pytest.raises(ValueError):
        error_issue_unmerge(issue=a, actor=None)


def test_a_busy_issue_is_folded_in_batches_and_the_tick_counts_the_rest(project, settings):
    settings.ERRORS_FOLD_INTERVAL_SECONDS = 3600
    issue = store_event(project, message="hot")  # a new issue in this process: folded at once
    for _ in range(4):
        store_event(project, message="hot")
    assert refreshed(issue).event_count == 1
    assert ErrorIssueTally.objects.filter(issue=issue).count() == 4
    fold_error_issues()
    assert refreshed(issue).event_count == 5


@contextmanager
def held(issue):
    """Another transaction holds the issue, as a fold or an admin action does, until the block
    ends; it gives up after 10 s, so a wait on it shows as a slow test and failed counts."""
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                ErrorIssue.objects.select_for_update(no_key=True).get(pk=issue.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ingest_does_not_wait_for_a_locked_hot_issue(project):
    """While another transaction holds the issue (a fold, an admin action), events are still
    stored at once; the pending tallies are counted by the next fold."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    issue = store_event(project)
    with held(issue):
        started = time.monotonic()
        for _ in range(5):
            store_event(project)  # would wait here if ingest locked the issue
        assert time.monotonic() - started < 5
        assert ErrorEvent.objects.filter(issue=issue).count() == 6
        assert refreshed(issue).event_count == 1
        assert error_issue_fold(issue_id=issue.pk) is False
    assert error_issues_fold_pending() == 1
    assert refreshed(issue).event_count == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_waking_snoozes_skips_an_issue_another_transaction_holds(project):
    """The beat tick does not queue behind a busy issue: it wakes the others, and the held one
    at its next tick (or its holder's fold does)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    past = timezone.now() - timedelta(seconds=1)
    busy = error_issue_ignore(issue=store_event(project), until=past, actor=None)
    quiet = error_issue_ignore(issue=store_event(project, message="other"), until=past, actor=None)
    with held(busy):
        started = time.monotonic()
        assert error_issues_wake_snoozed() == 1
        assert time.monotonic() - started < 5
        assert (refreshed(busy).status, refreshed(quiet).status) == (Status.IGNORED, Status.UNRESOLVED)
    assert error_issues_wake_snoozed() == 1
    assert refreshed(busy).status == Status.UNRESOLVED
