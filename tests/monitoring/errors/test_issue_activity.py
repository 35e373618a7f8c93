"""An issue's activity: who did what to it and when, from the admin's actions to what Lookout
does by itself, and the timeline the issue page shows."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from monitoring.errors.models import ErrorIssueActivity
from monitoring.errors.services.issues import (
    error_issue_ignore,
    error_issue_merge,
    error_issue_resolve,
    error_issue_unresolve,
)
from monitoring.errors.tasks import fold_error_issues
from tests.factories import ProjectFactory, UserFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
Action = ErrorIssueActivity.Action
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", "correct-horse-battery")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def act(client, action, *issues):
    """Run a bulk action of the issue stream on `issues`, as the client's user."""
    response = client.post(
        reverse("admin:monitoring_errorissue_changelist"),
        {"action": action, "_selected_action": [i.pk for i in issues]},
    )
    assert response.status_code == 302


def page(client, issue) -> str:
    return client.get(reverse("admin:monitoring_errorissue_change", args=[issue.pk])).content.decode()


def activity(issue):
    """(action, who, detail) oldest first; who is None for Lookout's own doing."""
    rows = ErrorIssueActivity.objects.filter(issue=issue).select_related("actor").order_by("at", "id")
    return [(a.action, a.actor.username if a.actor else None, a.detail) for a in rows]


@pytest.mark.parametrize(
    ("admin_action", "recorded", "detail"),
    [
        ("resolve", Action.RESOLVED, {}),
        ("resolve_in_next_release", Action.RESOLVED_NEXT_RELEASE, {"release": "2.0"}),
        ("ignore", Action.IGNORED, {}),
        ("snooze_1h", Action.SNOOZED, {"until": (T0 + timedelta(hours=1)).isoformat()}),
        ("snooze_24h", Action.SNOOZED, {"until": (T0 + timedelta(hours=24)).isoformat()}),
        ("snooze_100_events", Action.SNOOZED, {"events": 100}),
        ("unresolve", Action.UNRESOLVED, {}),
    ],
)
def test_each_action_of_the_stream_records_the_person_who_took_it(alice_client, admin_action, recorded, detail):
    with time_machine.travel(T0, tick=False):
        issue = store_event(ProjectFactory(), release="2.0")
        act(alice_client, admin_action, issue)
    assert activity(issue) == [(recorded, "alice", detail)]


def test_merge_and_unmerge_record_the_person_on_both_issues(alice_client):
    project = ProjectFactory()
    kept, merged = store_event(project, message="A"), store_event(project, message="B")
    store_event(project, message="A")  # the one with most events is kept
    act(alice_client, "merge", kept, merged)
    assert activity(kept) == [(Action.MERGED_IN, "alice", {"issue": merged.pk, "title": "B"})]
    assert activity(merged) == [(Action.MERGED, "alice", {"issue": kept.pk, "title": "A"})]
    assert f'href="{reverse("admin:monitoring_errorissue_change", args=[kept.pk])}"' in page(alice_client, merged)

    act(alice_client, "unmerge", merged)
    assert activity(kept)[1:] == [(Action.UNMERGED_OUT, "alice", {"issue": merged.pk, "title": "B"})]
    assert activity(merged)[1:] == [(Action.UNMERGED, "alice", {"issue": kept.pk, "title": "A"})]


def test_issues_carried_along_by_a_merge_say_where_they_now_live(alice):
    project = ProjectFactory()
    a, b, c = (store_event(project, message=m) for m in "ABC")
    error_issue_merge(target=b, sources=[c], actor=None)
    error_issue_merge(target=a, sources=[b], actor=alice)
    assert activity(c)[-1] == (Action.MERGED, "alice", {"issue": a.pk, "title": "A", "via": b.pk})
    assert [row[0] for row in activity(a)] == [Action.MERGED_IN]  # b only: c was already b's


def test_a_regression_is_recorded_as_lookouts_doing(alice_client):
    project = ProjectFactory()
    issue = store_event(project, release="1.0")
    act(alice_client, "resolve_in_next_release", issue)
    store_event(project, release="1.1")
    assert activity(issue) == [
        (Action.RESOLVED_NEXT_RELEASE, "alice", {"release": "1.0"}),
        (Action.REGRESSED, None, {"release": "1.1"}),
    ]


def test_a_snooze_running_out_by_time_or_by_events_is_recorded_as_lookouts_doing(alice_client, alice):
    project = ProjectFactory()
    with time_machine.travel(T0, tick=False) as clock:
        timed, counted = store_event(project, message="timed"), store_event(project, message="counted")
        act(alice_client, "snooze_1h", timed)
        error_issue_ignore(issue=counted, actor=alice, events=2)
        clock.move_to(T0 + timedelta(minutes=61))
        fold_error_issues()  # the beat tick
        store_event(project, message="counted")
        store_event(project, message="counted")
    until = (T0 + timedelta(hours=1)).isoformat()
    assert activity(timed) == [
        (Action.SNOOZED, "alice", {"until": until}),
        (Action.SNOOZE_ENDED, None, {"until": until}),
    ]
    assert activity(counted) == [(Action.SNOOZED, "alice", {"events": 2}), (Action.SNOOZE_ENDED, None, {"events": 2})]


def test_a_refused_action_leaves_no_activity(alice):
    project = ProjectFactory()
    a, b = store_event(project, message="A"), store_event(project, message="B")
    error_issue_merge(target=a, sources=[b], actor=alice)
    before = ErrorIssueActivity.objects.count()
    with pytest.raises(ValueError):
        error_issue_resolve(issue=b, actor=alice)
    assert ErrorIssueActivity.objects.count() == before


def test_the_issue_page_shows_the_timeline_newest_first_with_who_what_and_when(alice_client):
    project = ProjectFactory()
    issue = store_event(project, release="1.0")
    act(alice_client, "resolve", issue)
    store_event(project, release="1.1")
    act(alice_client, "snooze_100_events", issue)
    html = page(alice_client, issue)
    assert re.findall(r'data-action="(\w+)"', html) == ["snoozed", "regressed", "resolved"]
    assert "<td>alice</td><td>Snoozed</td><td>until 100 more events</td>" in html
    assert "<td>Lookout</td><td>Regressed</td><td>in release 1.1</td>" in html
    assert "<td>alice</td><td>Resolved</td>" in html


def test_a_deleted_persons_action_does_not_read_as_lookouts(alice_client):
    issue = store_event(ProjectFactory())
    gone = UserFactory()
    error_issue_resolve(issue=issue, actor=gone)
    gone.delete()
    assert "<td>unknown</td><td>Resolved</td>" in page(alice_client, issue)


def test_assigning_on_the_issue_page_records_who_assigned_whom_and_a_save_without_a_change_nothing(
    alice_client,
):
    issue = store_event(ProjectFactory())
    bob = UserFactory(username="bob")
    url = reverse("admin:monitoring_errorissue_change", args=[issue.pk])
    for assignee in (bob.pk, bob.pk, ""):
        assert alice_client.post(url, {"assignee": assignee, "_save": "Save"}).status_code == 302
    issue.refresh_from_db()
    assert issue.assignee is None
    assert activity(issue) == [(Action.ASSIGNED, "alice", {"assignee": "bob"}), (Action.ASSIGNED, "alice", {})]


def test_the_issue_page_reads_its_timeline_in_one_query_however_long(
    alice_client, alice, django_assert_max_num_queries
):
    issue = store_event(ProjectFactory())
    bob = UserFactory(username="bob")
    error_issue_resolve(issue=issue, actor=alice)
    with django_assert_max_num_queries(40) as few:
        page(alice_client, issue)
    for _ in range(20):
        error_issue_unresolve(issue=issue, actor=bob)
        error_issue_resolve(issue=issue, actor=alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(alice_client, issue)
    assert html.count("data-action=") == 41
