"""Releases and deploys through the API sentry-cli calls, and what issues do with them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.errors.release_selectors import release_adoption, release_overview
from monitoring.errors.services.issues import resolve_in_next_release
from monitoring.models import Deploy, ErrorIssue, Release, ReleaseCommit, ReleaseHealth
from tests.factories import ProjectFactory, make_api_token
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db
ORG = "/api/0/organizations/lookout"


@pytest.fixture
def shop():
    return ProjectFactory(slug="shop", name="Shop")


@pytest.fixture
def api(client):
    token = make_api_token(scope="write").secret

    def call(method, path, body=None, *, secret=token):
        data = json.dumps(body) if body is not None else ""
        return client.generic(
            method, path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )

    return call


def refreshed(issue):
    issue.refresh_from_db()
    return issue


def commit(n, message="fix"):
    return {
        "id": f"{n:040x}",
        "repository": "acme/shop",
        "message": f"{message} {n}",
        "author_name": "Ann",
        "author_email": "ann@example.com",
        "timestamp": "2026-12-01T10:00:00+01:00",
        "patch_set": [{"path": "app.js", "type": "M"}],
    }


def test_new_finalize_commits_and_deploy_as_sentry_cli_sends_them(api, shop):
    web = ProjectFactory(slug="web")
    made = api("POST", f"{ORG}/releases/", {"version": "shop@1.0", "projects": ["shop", "web"], "dateStarted": None})
    assert made.status_code == 201
    assert [p["slug"] for p in made.json()["projects"]] == ["shop", "web"]
    assert made.json()["dateReleased"] is None
    again = api("POST", f"{ORG}/releases/", {"version": "shop@1.0", "projects": ["shop"]})
    assert again.status_code == 208 and Release.objects.filter(version="shop@1.0").count() == 2

    finalized = api("PUT", f"{ORG}/releases/shop@1.0/", {"dateReleased": "2026-12-07T07:00:00Z"})
    assert finalized.status_code == 200 and finalized.json()["dateReleased"] == "2026-12-07T07:00:00Z"

    assert api("GET", f"{ORG}/repos/").json() == []
    assert api("GET", f"{ORG}/releases/shop@1.0/previous-with-commits/").json() == {}
    updated = api("PUT", f"{ORG}/releases/shop@1.0/", {"commits": [commit(2), commit(1)]})
    assert updated.json()["lastCommit"]["id"] == f"{2:040x}" and updated.json()["commitCount"] == 2
    listed = api("GET", f"{ORG}/releases/shop@1.0/commits/").json()
    assert [c["message"] for c in listed] == ["fix 2", "fix 1"]

    deploy = api(
        "POST",
        f"{ORG}/releases/shop@1.0/deploys/",
        {"environment": "production", "name": "blue", "dateFinished": "2026-12-07T07:05:00Z", "projects": ["web"]},
    )
    assert deploy.status_code == 201
    assert deploy.json()["environment"] == "production" and deploy.json()["name"] == "blue"
    assert [d.release.project for d in Deploy.objects.all()] == [web]
    assert api("GET", f"{ORG}/releases/shop@1.0/").json()["lastDeploy"]["name"] == "blue"


def test_set_commits_replaces_the_list_and_the_next_release_starts_from_the_last(api, shop):
    api("POST", f"{ORG}/releases/", {"version": "1.0", "projects": ["shop"], "dateStarted": "2026-12-01T00:00:00Z"})
    api("PUT", f"{ORG}/releases/1.0/", {"commits": [commit(1)]})
    api("PUT", f"{ORG}/releases/1.0/", {"commits": [commit(3), commit(2)]})
    assert list(ReleaseCommit.objects.values_list("commit_id", flat=True)) == [f"{3:040x}", f"{2:040x}"]
    api("POST", f"{ORG}/releases/", {"version": "1.1", "projects": ["shop"]})
    previous = api("GET", f"{ORG}/releases/1.1/previous-with-commits/").json()
    assert previous["version"] == "1.0" and previous["lastCommit"]["id"] == f"{3:040x}"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"version": "a/b", "projects": ["shop"]}, "version: version may not contain slashes"),
        ({"version": "latest", "projects": ["shop"]}, "version: version 'latest' is not allowed"),
        ({"version": "x" * 251, "projects": ["shop"]}, "version: version is longer than 250 characters"),
        ({"version": "1.0"}, "projects: a non-empty list of project slugs or ids"),
        ({"version": "1.0", "projects": ["nope"]}, "projects: no project 'nope'"),
        ({"version": "1.0", "projects": ["shop"], "dateReleased": "soon"}, "dateReleased: an ISO 8601 date and time"),
        ({"version": "1.0", "projects": ["shop"], "url": 7}, "url: a string of at most 500 characters"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_bad_release_input_is_400_naming_the_field_and_stores_nothing(api, shop, body, detail):
    response = api("POST", f"{ORG}/releases/", body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert not Release.objects.exists()


def test_bad_commits_and_deploys_leave_what_was_there(api, shop):
    api("POST", f"{ORG}/releases/", {"version": "1.0", "projects": ["shop"]})
    api("PUT", f"{ORG}/releases/1.0/", {"commits": [commit(1)]})
    bad = api("PUT", f"{ORG}/releases/1.0/", {"commits": [commit(2), {"message": "no id"}]})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("commits[1].id:")
    assert list(ReleaseCommit.objects.values_list("message", flat=True)) == ["fix 1"]
    no_env = api("POST", f"{ORG}/releases/1.0/deploys/", {"name": "x"})
    assert no_env.status_code == 400 and no_env.json()["detail"] == "environment: required"
    backwards = api(
        "POST",
        f"{ORG}/releases/1.0/deploys/",
        {"environment": "prod", "dateStarted": "2026-12-07T08:00:00Z", "dateFinished": "2026-12-07T07:00:00Z"},
    )
    assert (
        backwards.status_code == 400 and backwards.json()["detail"] == "dateStarted: dateStarted is after dateFinished"
    )
    assert api("POST", f"{ORG}/releases/9.9/deploys/", {"environment": "prod"}).status_code == 404
    assert api("PUT", f"{ORG}/releases/9.9/", {"dateReleased": "2026-12-07T07:00:00Z"}).status_code == 404
    assert not Deploy.objects.exists()


def test_tokens_are_needed_and_writes_need_a_write_token(api, shop):
    anonymous = api("GET", f"{ORG}/releases/", secret="lkt_wrong")
    assert anonymous.status_code == 401
    reader = make_api_token(scope="read").secret
    assert api("GET", f"{ORG}/releases/", secret=reader).status_code == 200
    refused = api("POST", f"{ORG}/releases/", {"version": "1.0", "projects": ["shop"]}, secret=reader)
    assert refused.status_code == 403 and "scope" in refused.json()["detail"]
    assert not Release.objects.exists()


def test_resolve_in_next_release_waits_for_a_release_newer_than_the_projects_newest(shop):
    issue = store_event(shop, release="1.0")
    # A release made by sentry-cli before it has events is "the current release" too.
    Release.objects.create(project=shop, version="1.1", first_seen=timezone.now() + timedelta(seconds=1))
    issue = resolve_in_next_release(issue, None)
    assert issue.status == ErrorIssue.Status.RESOLVED_NEXT_RELEASE and issue.resolved_in_release == "1.1"
    store_event(shop, release="1.0")  # old clients still running: expected
    store_event(shop, release="1.1")
    assert refreshed(issue).status == ErrorIssue.Status.RESOLVED_NEXT_RELEASE
    Release.objects.create(project=shop, version="1.2", first_seen=timezone.now() + timedelta(seconds=2))
    store_event(shop, release="1.2")
    issue = refreshed(issue)
    assert issue.status == ErrorIssue.Status.UNRESOLVED and issue.is_regression
    overview = release_overview(Release.objects.get(project=shop, version="1.2"))
    assert overview.regressed_issues == [issue]
    assert release_overview(Release.objects.get(project=shop, version="1.0")).new_issues == [issue]


def test_release_overview_shows_health_and_adoption(shop):
    today = timezone.now().date()
    ReleaseHealth.objects.create(project=shop, release="1.0", day=today, sessions=30, crashed=3)
    ReleaseHealth.objects.create(project=shop, release="1.1", day=today, sessions=10)
    old = Release.objects.create(project=shop, version="1.0", first_seen=timezone.now())
    assert release_adoption(old) == pytest.approx(0.75)
    overview = release_overview(old)
    assert overview.health.sessions == 30 and overview.health.crash_free_sessions == pytest.approx(0.9)
