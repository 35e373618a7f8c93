"""A token limited to some projects sees and changes only their objects, and only where an
endpoint knows how to narrow itself to them; everywhere else it is refused, never shown more."""

import re

import pytest
from django.urls import reverse

from monitoring.models import ApiToken, Project
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_authenticate, api_token_create
from tests.alerts.api.conftest import client_for
from tests.factories import ProjectFactory, UserFactory, make_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ProjectFactory(slug="shop")


@pytest.fixture
def blog():
    return ProjectFactory(slug="blog")


def limited_to(*projects, role="admin", scope="write"):
    user = UserFactory()
    role_assign(user=user, role=role)
    return client_for(api_token_create(user=user, scope=scope, projects=projects))


def test_a_limited_token_lists_and_reads_only_its_projects(shop, blog):
    third = ProjectFactory(slug="docs")
    client = limited_to(shop, third)
    listed = client.get("/api/v1/projects").json()["results"]
    assert sorted(row["slug"] for row in listed) == ["docs", "shop"]
    assert client.get(f"/api/v1/projects/{shop.pk}").status_code == 200
    assert client.get(f"/api/v1/projects/{blog.pk}").status_code == 404


def test_a_limited_token_cannot_create_a_project(shop):
    answer = limited_to(shop).post("/api/v1/projects", {"name": "New"}, format="json")
    assert answer.status_code == 403
    assert "project-limited" in answer.json()["error"]
    assert not Project.objects.filter(name="New").exists()


@pytest.mark.parametrize("path", ["/api/v1/channels", "/api/v1/overview"])
def test_an_endpoint_that_covers_every_project_refuses_a_limited_token(shop, path):
    answer = limited_to(shop).get(path)
    assert answer.status_code == 403
    assert f"limited to projects {shop.pk}" in answer.json()["error"]


def test_a_token_of_every_project_still_sees_them_all(shop, blog):
    client = client_for(make_api_token(scope="read", role="viewer"))
    assert len(client.get("/api/v1/projects").json()["results"]) == 2
    assert client.get("/api/v1/targets").status_code == 200


def test_a_limited_token_still_acts_within_its_users_role(shop):
    # A viewer's write token limited to a project: the role, not the token, refuses the write.
    from tests.monitoring.errors.factories import store_event

    issue = store_event(shop, message="Boom")
    answer = limited_to(shop, role="viewer").post(f"/api/v1/issues/{issue.pk}/resolve", {}, format="json")
    assert answer.status_code == 403
    assert "lacks the permission monitoring.change_errorissue" in answer.json()["error"]


def test_the_admin_makes_a_token_limited_to_the_projects_ticked(admin_client, shop, blog):
    user = UserFactory()
    form = admin_client.get(reverse("admin:monitoring_apitoken_add")).content.decode()
    assert 'name="projects"' in form and 'type="checkbox"' in form
    response = admin_client.post(
        reverse("admin:monitoring_apitoken_add"),
        {"user": user.pk, "name": "shop ci", "scope": "read", "projects": [shop.pk]},
        follow=True,
    )
    secret = re.search(r"<code>(lkt_[\w-]+)</code>", response.content.decode()).group(1)
    token = api_token_authenticate(secret=secret)
    assert token.project_ids == frozenset({shop.pk})
    assert ApiToken.objects.count() == 1
