"""Error issues over the token API: what a script triaging errors sees and may do."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.errors.models import ErrorIssueActivity
from monitoring.models import ErrorEvent, ErrorIssue, Release
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from tests.alerts.api.conftest import client_for, queries_for
from tests.factories import ProjectFactory, UserFactory, make_api_token
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
Status = ErrorIssue.Status


@pytest.fixture
def reader():
    return client_for(make_api_token(scope="read", role="viewer"))


@pytest.fixture
def responder():
    """A responder's write token: works issues, configures nothing."""
    return client_for(make_api_token(scope="write", role="responder"))


@pytest.fixture
def shop():
    return ProjectFactory(slug="shop")


def issue_of(project, message, **fields) -> ErrorIssue:
    return store_event(project, message=message, **fields)


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


def test_list_filters_by_project_status_level_release_and_words(reader, shop):
    blog = ProjectFactory(slug="blog")
    checkout = issue_of(shop, "Checkout failed for cart", level="error", release="1.0", environment="production")
    slow = issue_of(shop, "Slow query on orders", level="warning", release="1.1")
    other = issue_of(blog, "Comment spam rejected")
    ErrorIssue.objects.filter(pk=slow.pk).update(status=Status.IGNORED)

    assert sorted(ids(reader.get("/api/v1/issues"))) == sorted([checkout.pk, slow.pk, other.pk])
    assert ids(reader.get("/api/v1/issues", {"project": blog.pk})) == [other.pk]
    assert ids(reader.get("/api/v1/issues", {"status": "ignored"})) == [slow.pk]
    assert ids(reader.get("/api/v1/issues", {"level": "warning"})) == [slow.pk]
    assert ids(reader.get("/api/v1/issues", {"release": "1.0"})) == [checkout.pk]
    assert ids(reader.get("/api/v1/issues", {"environment": "production"})) == [checkout.pk]
    assert ids(reader.get("/api/v1/issues", {"query": "CHECKOUT cart"})) == [checkout.pk]
    assert ids(reader.get("/api/v1/issues", {"query": "checkout spam"})) == []
    assert ids(reader.get("/api/v1/issues", {"project": 999999})) == []


def test_list_filters_by_category_and_leaves_merged_issues_out(reader, shop):
    login = issue_of(shop, "Login refused")
    ErrorIssue.objects.filter(pk=login.pk).update(category="authentication")
    gone = issue_of(shop, "Duplicate of login")
    ErrorIssue.objects.filter(pk=gone.pk).update(status=Status.MERGED, merged_into=login)
    assert ids(reader.get("/api/v1/issues", {"category": "authentication"})) == [login.pk]
    assert gone.pk not in ids(reader.get("/api/v1/issues"))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "merged"}, "status"),
        ({"status": "burning"}, "status"),
        ({"level": "loud"}, "level"),
        ({"category": "weather"}, "category"),
        ({"project": "shop"}, "project"),
        ({"project": "99999999999999999999999"}, "project"),
        ({"query": "x" * 201}, "query"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"sort": "users"}, "sort"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(reader, query, field):
    answer = reader.get("/api/v1/issues", query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]


def test_the_cursor_reads_every_issue_once_and_the_query_count_stays_fixed(reader, shop):
    made = [issue_of(shop, f"Error number {n}") for n in range(5)]
    seen, url = [], "/api/v1/issues?page_size=2"
    while url:
        page = reader.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(i.pk for i in made)

    few = queries_for(reader, "/api/v1/issues")
    for n in range(10):
        issue = issue_of(ProjectFactory(), f"Another {n}")
        ErrorIssue.objects.filter(pk=issue.pk).update(assignee=UserFactory())
    assert queries_for(reader, "/api/v1/issues") == few
    # Around the token and its user's permissions, the page itself is one query.
    with CaptureQueriesContext(connection) as queries:
        reader.get("/api/v1/issues")
    assert len([q for q in queries.captured_queries if '"monitoring_errorissue"' in q["sql"]]) == 1


def test_detail_shows_where_it_was_seen_and_its_timeline(reader, responder, shop):
    issue = issue_of(shop, "Payment gateway timeout", release="2.0", environment="production")
    responder.post(f"/api/v1/issues/{issue.pk}/ignore", {}, format="json")
    body = reader.get(f"/api/v1/issues/{issue.pk}").json()
    assert (body["title"], body["status"], body["event_count"]) == ("Payment gateway timeout", "ignored", 1)
    assert {(s["dimension"], s["value"]) for s in body["seen_in"]} == {
        ("release", "2.0"),
        ("environment", "production"),
    }
    assert body["activity"][0]["action"] == "ignored"
    assert body["activity"][0]["actor"].startswith("user")
    assert reader.get("/api/v1/issues/999999").status_code == 404


def test_events_page_newest_first_and_one_event_carries_its_payload(reader, shop):
    now = timezone.now()
    issue = None
    for minutes in (30, 20, 10):
        issue = issue_of(shop, "Cart total negative", received_at=now - timedelta(minutes=minutes), release="3.1")
    assert issue is not None
    first = reader.get(f"/api/v1/issues/{issue.pk}/events", {"page_size": 2}).json()
    second = reader.get(first["next"]).json()
    stamps = [row["timestamp"] for row in first["results"] + second["results"]]
    assert len(stamps) == 3 and stamps == sorted(stamps, reverse=True)
    assert second["next"] is None

    newest = first["results"][0]
    assert len(newest["event_id"]) == 32 and newest["release"] == "3.1" and "payload" not in newest
    one = reader.get(f"/api/v1/issues/{issue.pk}/events/{newest['event_id']}").json()
    assert one["payload"]["message"] == "Cart total negative"
    assert reader.get(f"/api/v1/issues/{issue.pk}/events/{'0' * 32}").status_code == 404
    assert reader.get(f"/api/v1/issues/{issue.pk}/events/not-an-id").status_code == 404


def test_the_events_query_count_does_not_grow_with_the_page(reader, shop):
    issue = issue_of(shop, "Many times")
    few = queries_for(reader, f"/api/v1/issues/{issue.pk}/events")
    for _ in range(8):
        issue_of(shop, "Many times")
    assert queries_for(reader, f"/api/v1/issues/{issue.pk}/events") == few


def test_resolve_ignore_snooze_and_unresolve_go_through_the_timeline(responder, shop):
    issue = issue_of(shop, "Null pointer in invoice")
    url = f"/api/v1/issues/{issue.pk}"
    assert responder.post(f"{url}/resolve", {}, format="json").json()["status"] == "resolved"
    assert responder.post(f"{url}/unresolve").json()["status"] == "unresolved"
    until = timezone.now() + timedelta(hours=2)
    snoozed = responder.post(f"{url}/ignore", {"until": until.isoformat(), "events": 50}, format="json").json()
    assert (snoozed["status"], snoozed["snooze_event_count"]) == ("ignored", 50)
    assert snoozed["snooze_until"] is not None
    actions = list(ErrorIssueActivity.objects.filter(issue=issue).order_by("at", "id").values_list("action", "actor"))
    assert [a for a, _ in actions] == ["resolved", "unresolved", "snoozed"]
    assert all(actor is not None for _, actor in actions)


def test_resolve_in_next_release_names_the_projects_newest_release(responder, shop):
    issue = issue_of(shop, "Broken export", release="4.0")
    assert Release.objects.filter(project=shop, version="4.0").exists()
    body = responder.post(f"/api/v1/issues/{issue.pk}/resolve", {"in_next_release": True}, format="json").json()
    assert (body["status"], body["resolved_in_release"]) == ("resolved_next_release", "4.0")


def test_merge_folds_the_named_issues_and_their_events_into_this_one(responder, shop):
    kept = issue_of(shop, "Timeout talking to stock service")
    twin = issue_of(shop, "Timeout talking to stock svc")
    issue_of(shop, "Timeout talking to stock svc")
    merged = responder.post(f"/api/v1/issues/{kept.pk}/merge", {"issues": [twin.pk, kept.pk]}, format="json")
    assert merged.status_code == 200, merged.content
    assert merged.json()["event_count"] == 3
    assert ErrorEvent.objects.filter(issue=kept).count() == 3
    twin.refresh_from_db()
    assert (twin.status, twin.merged_into_id) == (Status.MERGED, kept.pk)
    # The merged issue is still readable, and says where it went; it changes only through that one.
    gone = responder.get(f"/api/v1/issues/{twin.pk}").json()
    assert (gone["status"], gone["merged_into"]) == ("merged", kept.pk)
    refused = responder.post(f"/api/v1/issues/{twin.pk}/resolve", {}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()["fields"]


@pytest.mark.parametrize(
    "case",
    ["other project", "missing", "itself only", "already merged", "empty", "not a list", "strings"],
)
def test_a_bad_merge_is_a_400_naming_issues_and_changes_nothing(responder, shop, case):
    kept = issue_of(shop, "Kept")
    stranger = issue_of(ProjectFactory(), "Elsewhere")
    done = issue_of(shop, "Done already")
    ErrorIssue.objects.filter(pk=done.pk).update(status=Status.MERGED, merged_into=kept)
    body = {
        "other project": {"issues": [stranger.pk]},
        "missing": {"issues": [999999]},
        "itself only": {"issues": [kept.pk]},
        "already merged": {"issues": [done.pk]},
        "empty": {"issues": []},
        "not a list": {"issues": stranger.pk},
        "strings": {"issues": ["x"]},
    }[case]
    answer = responder.post(f"/api/v1/issues/{kept.pk}/merge", body, format="json")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["fields"]) == ["issues"]
    assert ErrorIssue.objects.get(pk=stranger.pk).status == Status.UNRESOLVED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2001-01-01T00:00:00Z"}, "until"),
        ({"until": "soon"}, "until"),
        ({"events": 0}, "events"),
        ({"events": "10"}, "events"),
        ({"events": 1_000_001}, "events"),
        ({"forever": True}, "forever"),
    ],
)
def test_a_bad_ignore_is_a_400_naming_the_field(responder, shop, body, field):
    issue = issue_of(shop, "Flaky")
    answer = responder.post(f"/api/v1/issues/{issue.pk}/ignore", body, format="json")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()["fields"]) == [field]
    assert ErrorIssue.objects.get(pk=issue.pk).status == Status.UNRESOLVED


def test_a_read_token_and_a_viewer_cannot_change_issues(shop):
    issue = issue_of(shop, "Read only")
    for client in (
        client_for(make_api_token(scope="read", role="admin")),
        client_for(make_api_token(scope="write", role="viewer")),
    ):
        answer = client.post(f"/api/v1/issues/{issue.pk}/resolve", {}, format="json")
        assert answer.status_code == 403
    assert ErrorIssue.objects.get(pk=issue.pk).status == Status.UNRESOLVED


def test_a_token_limited_to_a_project_sees_and_merges_only_its_issues(shop):
    blog = ProjectFactory(slug="blog")
    mine, twin = issue_of(shop, "Mine"), issue_of(shop, "Mine too")
    theirs = issue_of(blog, "Theirs")
    user = UserFactory()
    role_assign(user=user, role="responder")
    limited = client_for(api_token_create(user=user, scope="write", projects=[shop]))

    assert sorted(ids(limited.get("/api/v1/issues"))) == sorted([mine.pk, twin.pk])
    assert ids(limited.get("/api/v1/issues", {"project": blog.pk})) == []
    assert limited.get(f"/api/v1/issues/{theirs.pk}").status_code == 404
    assert limited.post(f"/api/v1/issues/{theirs.pk}/resolve", {}, format="json").status_code == 404
    assert limited.post(f"/api/v1/issues/{mine.pk}/resolve", {}, format="json").status_code == 200
    stolen = limited.post(f"/api/v1/issues/{mine.pk}/merge", {"issues": [theirs.pk]}, format="json")
    assert stolen.status_code == 400 and "does not exist" in stolen.json()["fields"]["issues"][0]
    assert ErrorIssue.objects.get(pk=theirs.pk).status == Status.UNRESOLVED
