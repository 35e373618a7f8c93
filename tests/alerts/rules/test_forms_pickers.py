"""The rule editor's target and issue pickers: at scale the page holds only the chosen
targets, the search answers a page at a time, bad queries are a 400 naming the parameter,
and only people who may write rules can search."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from alerts.models import AlertRule
from alerts.pickers import PAGE_SIZE
from monitoring.errors.partitions import events as event_partitions
from monitoring.models import ErrorEvent, ErrorIssue, Target
from monitoring.projects.roles import role_assign
from tests.alerts.rules.factories import RuleFactory
from tests.alerts.rules.test_rule_forms import field_errors, rule_post
from tests.factories import ProjectFactory, UserFactory

SEARCH = "admin:alerts_alertrule_targets"
ISSUES = "admin:alerts_alertrule_issues"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADD = "admin:alerts_alertrule_add"
MANY = 10_000
# The add page at any number of targets: the picker reads none of them.
ADD_PAGE_QUERIES = 5
# The change page of a rule watching three (its state tables too): the chosen ones in one read.
CHANGE_PAGE_QUERIES = 18


def make_targets(project, count: int, *, start: int = 0) -> list[Target]:
    return Target.objects.bulk_create(
        Target(project=project, name=f"service-{n:05}", kind=Target.Kind.HTTP, url=f"https://s{n}.example/")
        for n in range(start, start + count)
    )


def test_the_search_pages_through_the_targets(admin_client, project):
    make_targets(project, PAGE_SIZE + 5)
    first = admin_client.get(reverse(SEARCH), {"project": project.pk}).json()
    assert len(first["results"]) == PAGE_SIZE and first["pagination"]["more"] is True
    assert first["results"][0]["text"] == "service-00000"
    second = admin_client.get(reverse(SEARCH), {"project": project.pk, "page": 2}).json()
    assert [r["text"] for r in second["results"]] == [f"service-{n:05}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert second["pagination"]["more"] is False


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"project": "shop"}, "project: a project id"),
        ({"kind": "smtp"}, "kind: one of"),
        ({"page": "two"}, "page: a whole number"),
    ],
)
def test_a_bad_search_is_a_400_naming_the_parameter(admin_client, project, query, says):
    response = admin_client.get(reverse(SEARCH), query)
    assert response.status_code == 400
    assert says in response.json()["error"]


def test_only_people_who_may_write_rules_can_search(client, project):
    make_targets(project, 1)
    viewer = UserFactory(is_staff=True)
    role_assign(user=viewer, role="viewer")
    client.force_login(viewer)
    assert client.get(reverse(SEARCH)).status_code == 403
    client.logout()
    assert client.get(reverse(SEARCH)).status_code == 302  # to the login page


def test_the_rule_form_stays_the_same_size_at_10000_targets(admin_client, project, django_assert_max_num_queries):
    make_targets(project, 10)
    url = reverse(ADD) + f"?kind=target_status&project={project.pk}"
    small = admin_client.get(url)
    assert small.status_code == 200

    make_targets(project, MANY - 10, start=10)
    with django_assert_max_num_queries(ADD_PAGE_QUERIES):
        large = admin_client.get(url)
    assert large.status_code == 200
    # Not one byte per target: the page lists none of them (the CSRF token varies, not its length).
    assert abs(len(large.content) - len(small.content)) < 100, (len(small.content), len(large.content))

    chosen = list(Target.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)[5000:5003])
    rule = RuleFactory(project=project, kind="target_status", params={"statuses": ["down"], "target_ids": chosen})
    with django_assert_max_num_queries(CHANGE_PAGE_QUERIES):
        page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk])).content.decode()
    assert page.count("service-") == 3  # the chosen ones, and no other target
    for name in ("service-05000", "service-05001", "service-05002"):
        assert f">{name}</option>" in page

    with django_assert_max_num_queries(4):
        found = admin_client.get(reverse(SEARCH), {"project": project.pk, "term": "service-0999"}).json()
    assert [r["text"] for r in found["results"]] == [f"service-0999{n}" for n in range(10)]
    assert AlertRule.objects.count() == 1


def issue_with_events(project, title: str, count: int) -> ErrorIssue:
    """An issue with `count` events a minute apart in the ten minutes before NOW."""
    issue = ErrorIssue.objects.create(
        project=project, grouping_hash=uuid.uuid4().hex, title=title, first_seen=NOW, last_seen=NOW
    )
    event_partitions.ensure({NOW.date()})  # PostgreSQL keeps events in a table per day
    ErrorEvent.objects.bulk_create(
        ErrorEvent(
            project=project,
            issue=issue,
            event_id=uuid.uuid4(),
            grouping_hash=issue.grouping_hash,
            timestamp=NOW - timedelta(seconds=60 * n + 1),
            received_at=NOW,
            payload={},
        )
        for n in range(count)
    )
    return issue


def test_an_issue_frequency_rule_can_name_its_issues(admin_client, project, tick, signals):
    """The issue picker searches the project's issues by title; a rule naming issues alerts on
    those only, and saved, it shows just the named ones."""
    flood, storm = issue_with_events(project, "Flood", 10), issue_with_events(project, "Storm", 10)
    other = issue_with_events(ProjectFactory(slug="elsewhere"), "Flood elsewhere", 1)
    found = admin_client.get(reverse(ISSUES), {"project": project.pk, "term": "flo"}).json()["results"]
    assert found == [{"id": str(flood.pk), "text": flood.title}]

    post = rule_post(project, "error_frequency", count="5", window_minutes="5", issue_ids=[str(flood.pk)])
    response = admin_client.post(reverse(ADD), post)
    assert response.status_code == 302, field_errors(response)
    rule = AlertRule.objects.get()
    assert rule.params["issue_ids"] == [flood.pk]
    page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk])).content.decode()
    assert f'<option value="{flood.pk}" selected>' in page and "Storm" not in page

    rule.next_evaluation_at = NOW
    rule.save(update_fields=["next_evaluation_at"])
    tick(NOW)
    # Both issues cross 5 events; only the named one alerts.
    assert [s.labels["issue_id"] for s in signals] == [str(flood.pk)]
    assert storm.pk != flood.pk

    post = rule_post(project, "error_frequency", count="5", window_minutes="5", issue_ids=[str(other.pk)])
    assert "param_issue_ids" in field_errors(admin_client.post(reverse(ADD), post))
