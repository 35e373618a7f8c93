"""A token limited to projects reads "no projects" as "every project": when the admin deleted
the only project a token was limited to, the token quietly widened to every other project.
Deleting its last project revokes it instead; a token that keeps another project keeps it."""

import pytest
from django.urls import reverse

from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from tests.alerts.api.conftest import client_for
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def limited_to(*projects):
    user = UserFactory()
    role_assign(user=user, role="admin")
    return client_for(api_token_create(user=user, scope="read", projects=projects))


def slugs(client):
    return sorted(row["slug"] for row in client.get("/api/v1/projects").json()["results"])


def test_deleting_a_tokens_only_project_in_the_admin_revokes_the_token(admin_client):
    shop, _blog = ProjectFactory(slug="shop"), ProjectFactory(slug="blog")
    token = limited_to(shop)
    assert slugs(token) == ["shop"]

    deleted = admin_client.post(reverse("admin:monitoring_project_delete", args=[shop.pk]), {"post": "yes"})

    assert deleted.status_code == 302
    assert token.get("/api/v1/projects").status_code == 401


def test_the_delete_selected_action_revokes_too_and_spares_a_token_with_a_project_left(admin_client):
    shop, blog, docs = ProjectFactory(slug="shop"), ProjectFactory(slug="blog"), ProjectFactory(slug="docs")
    only_shop, shop_and_docs = limited_to(shop), limited_to(shop, docs)

    admin_client.post(
        reverse("admin:monitoring_project_changelist"),
        {"action": "delete_selected", "_selected_action": [shop.pk, blog.pk], "post": "yes"},
    )

    assert only_shop.get("/api/v1/projects").status_code == 401
    assert slugs(shop_and_docs) == ["docs"]
