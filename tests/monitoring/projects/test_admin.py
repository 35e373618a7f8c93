import re

import pytest
from django.urls import reverse

from monitoring.models import ApiToken, IngestKey
from monitoring.projects.services.api_tokens import api_token_authenticate
from tests.factories import ProjectFactory, UserFactory, make_ingest_key

pytestmark = pytest.mark.django_db


def test_project_page_shows_each_keys_dsn_with_a_copy_button(admin_client):
    key = make_ingest_key().key
    html = admin_client.get(reverse("admin:monitoring_project_change", args=[key.project_id])).content.decode()
    assert key.dsn in html
    assert f'data-copy="{key.dsn}"' in html


def test_adding_a_project_in_the_admin_gives_it_a_dsn(admin_client):
    response = admin_client.post(
        reverse("admin:monitoring_project_add"),
        {
            "name": "Billing",
            "slug": "billing",
            "environments-TOTAL_FORMS": "1",
            "environments-INITIAL_FORMS": "0",
            "environments-0-name": "production",
            "ingest_keys-TOTAL_FORMS": "0",
            "ingest_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert IngestKey.objects.get(project__slug="billing").is_active


def test_project_list_query_count_does_not_grow_with_projects(admin_client, django_assert_max_num_queries):
    for _ in range(3):
        make_ingest_key()
    url = reverse("admin:monitoring_project_changelist")
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    for _ in range(20):
        make_ingest_key()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    assert response.content.decode().count("data-copy=") == 23


def test_dashboard_lists_projects_and_their_dsns(admin_client):
    keys = [make_ingest_key().key for _ in range(2)]
    html = admin_client.get(reverse("admin:index")).content.decode()
    for key in keys:
        assert key.project.name in html
        assert key.dsn in html


def test_revoking_a_key_in_the_admin_locks_its_clients_out(admin_client, client):
    key = make_ingest_key().key
    admin_client.post(
        reverse("admin:monitoring_ingestkey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert client.get("/api/v1/ingest/key", HTTP_X_LOOKOUT_KEY=key.public_key).status_code == 401


def test_a_token_made_in_the_admin_is_shown_once_and_works(admin_client):
    user = UserFactory()
    response = admin_client.post(
        reverse("admin:monitoring_apitoken_add"), {"user": user.pk, "name": "ci", "scope": "write"}, follow=True
    )
    html = response.content.decode()
    secret = re.search(r"<code>(lkt_[\w-]+)</code>", html).group(1)
    assert api_token_authenticate(secret=secret).user == user
    assert ApiToken.objects.get().scope == "write"
    listing = admin_client.get(reverse("admin:monitoring_apitoken_changelist")).content.decode()
    assert secret not in listing


def test_adding_an_ingest_key_is_a_list_action_showing_the_new_dsn(admin_client):
    project = ProjectFactory()
    response = admin_client.post(
        reverse("admin:monitoring_project_changelist"),
        {"action": "new_ingest_key", "_selected_action": [project.pk]},
        follow=True,
    )
    key = project.ingest_keys.get()
    assert key.dsn in response.content.decode()
