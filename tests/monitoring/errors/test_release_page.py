"""A release's admin page, fed as the SDKs and sentry-cli feed it: sessions and events through
the envelope endpoint, commits and deploys through the API sentry-cli calls. Read as a person
reads it: the figures, the issue lists, and the way there from an issue's page."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from monitoring.errors.admin_releases import ISSUES_SHOWN
from monitoring.errors.services.issues import error_issue_resolve
from monitoring.models import ErrorIssue
from tests.factories import make_api_token
from tests.monitoring.errors.factories import store_event
from tests.monitoring.errors.test_ingest_endpoint import auth, envelope, item, post

pytestmark = pytest.mark.django_db
ORG = "/api/0/organizations/lookout"
VERSION = "shop@2.0"


def page_url(project, version=VERSION) -> str:
    return reverse("admin:monitoring_release", args=[project.pk, version])


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, anchor: str) -> str:
    return text(html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0])


def figure(html: str, name: str) -> str:
    return text(html.split(f'data-figure="{name}"', 1)[1].split("</div>", 1)[0])


def sessions(client, url, key, release: str, statuses: list[tuple[str, str]]):
    """One ended session per (user, status), as sentry-sdk sends them."""
    started = (timezone.now() - timedelta(minutes=10)).isoformat()
    items = [
        item(
            {
                "sid": uuid.uuid4().hex,
                "did": user,
                "init": True,
                "started": started,
                "status": status,
                "errors": 1 if status == "crashed" else 0,
                "attrs": {"release": release, "environment": "production"},
            },
            "session",
        )
        for user, status in statuses
    ]
    response = post(client, url, envelope(*items), headers=auth(key))
    assert response.status_code == 200, response.content


@pytest.fixture
def cli(client):
    secret = make_api_token(scope="write").secret

    def call(method, path, body):
        response = client.generic(
            method, path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )
        assert response.status_code in (200, 201), response.content
        return response

    return call


@pytest.fixture
def shipped(client, cli, envelope_url, ingest_key):
    """shop@2.0 with two commits, a deploy, a new issue, an issue that came back in it, and 4 of
    its 5 sessions (3 of 4 users) crash-free; shop@1.0 still runs 5 more sessions."""
    project = ingest_key.project
    project.slug = "shop"
    project.save(update_fields=["slug"])
    old = store_event(project, release="shop@1.0", message="Cart total is negative", fingerprint=["cart"])
    error_issue_resolve(issue=old, actor=None)
    cli("POST", f"{ORG}/releases/", {"version": VERSION, "projects": ["shop"]})
    commits = [
        {"id": f"{n:040x}", "repository": "acme/shop", "message": f"checkout: fix {n}", "author_name": "Ann"}
        for n in (2, 1)
    ]
    cli("PUT", f"{ORG}/releases/{VERSION}/", {"commits": commits})
    cli("POST", f"{ORG}/releases/{VERSION}/deploys/", {"environment": "production", "name": "blue"})
    store_event(project, release=VERSION, message="Payment form crashed", fingerprint=["payment"])
    store_event(project, release=VERSION, message="Cart total is negative", fingerprint=["cart"])
    sessions(
        client,
        envelope_url,
        ingest_key,
        VERSION,
        [("ann", "exited"), ("ann", "exited"), ("bob", "crashed"), ("cyd", "exited"), ("dan", "exited")],
    )
    sessions(client, envelope_url, ingest_key, "shop@1.0", [(f"old-{n}", "exited") for n in range(5)])
    return project


def test_the_page_shows_health_adoption_issues_commits_and_deploys(admin_client, shipped):
    response = admin_client.get(page_url(shipped))
    assert response.status_code == 200
    html = response.content.decode()
    assert "80 %" in figure(html, "crash-free-sessions")  # 1 crash in 5 sessions
    assert "1 crashed" in figure(html, "crash-free-sessions")
    assert "75 %" in figure(html, "crash-free-users")  # bob of ann, bob, cyd, dan
    assert "50 %" in figure(html, "adoption")  # 5 of the project's 10 sessions today
    new = section(html, "new-issues")
    assert "Payment form crashed" in new and "Cart total" not in new
    regressed = section(html, "regressed-issues")
    assert "Cart total is negative" in regressed and "Payment form" not in regressed
    commits = section(html, "commits")
    assert commits.index("checkout: fix 2") < commits.index("checkout: fix 1") and "Ann" in commits
    assert "production" in section(html, "deploys") and "blue" in section(html, "deploys")
    payment = ErrorIssue.objects.get(title__contains="Payment form")
    assert reverse("admin:monitoring_errorissue_change", args=[payment.pk]) in html


def test_the_page_leads_to_every_issue_seen_in_the_release(admin_client, shipped):
    html = admin_client.get(page_url(shipped)).content.decode()
    stream = re.search(r'id="release-stream"[^>]*href="([^"]+)"', html)
    assert stream is not None
    listed = admin_client.get(stream.group(1).replace("&amp;", "&")).content.decode()
    assert "Payment form crashed" in listed and "Cart total is negative" in listed


def test_an_issue_page_links_the_release_that_first_saw_it(admin_client, shipped):
    payment = ErrorIssue.objects.get(title__contains="Payment form")
    html = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[payment.pk])).content.decode()
    link = re.search(r'id="issue-first-release"[^>]*href="([^"]+)"', html)
    assert link is not None and link.group(1) == page_url(shipped)
    assert "Payment form crashed" in section(admin_client.get(link.group(1)).content.decode(), "new-issues")


def test_a_release_without_sessions_commits_or_deploys_says_how_to_get_them(admin_client, ingest_key):
    store_event(ingest_key.project, release="api/7")  # an SDK may send a slash; sentry-cli refuses one
    html = admin_client.get(page_url(ingest_key.project, "api/7")).content.decode()
    assert "—" in figure(html, "crash-free-sessions") and "No sessions for this release yet" in html
    assert "sentry-cli releases set-commits api/7" in section(html, "commits")
    assert "sentry-cli deploys new -r api/7" in section(html, "deploys")
    assert "No resolved issue came back in this release." in section(html, "regressed-issues")


def test_long_issue_lists_show_their_first_ones(admin_client, ingest_key):
    for n in range(ISSUES_SHOWN + 2):
        store_event(ingest_key.project, release="9.9", message=f"broke {n}", fingerprint=[str(n)])
    html = admin_client.get(page_url(ingest_key.project, "9.9")).content.decode()
    assert section(html, "new-issues").count("broke ") == ISSUES_SHOWN
    assert f"The first {ISSUES_SHOWN} are shown." in section(html, "new-issues")


def test_an_unknown_release_or_project_is_404(admin_client, shipped):
    assert admin_client.get(page_url(shipped, "shop@9")).status_code == 404
    assert admin_client.get(reverse("admin:monitoring_release", args=[shipped.pk + 999, VERSION])).status_code == 404


def test_the_page_needs_a_login_and_permission_to_read_issues(client, shipped):
    url = page_url(shipped)
    assert client.get(url).status_code == 302  # to the login page
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_the_page_reads_a_fixed_number_of_queries(admin_client, shipped, django_assert_max_num_queries):
    for n in range(20):
        store_event(shipped, release=VERSION, message=f"more {n}", fingerprint=[f"more-{n}"])
    with django_assert_max_num_queries(13):
        assert admin_client.get(page_url(shipped)).status_code == 200
