"""Status pages and their public incidents over the token API: the admin's rules, caches and
subscriber notices, the token's scope and its user's permissions."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import PublicIncident, StatusPage, Subscriber, SubscriberNotice
from alerts.status.selectors import page_slug_for_host
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from monitoring.uptime.probes.base import DOWN
from tests.alerts.api.conftest import client_for, queries_for
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory, probe
from tests.factories import ProjectFactory, UserFactory, make_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return client_for(make_api_token(scope="write", role="admin"))


def test_a_page_is_created_read_changed_and_deleted_and_its_domain_follows(admin, django_capture_on_commit_callbacks):
    answer = admin.post(
        "/api/v1/status-pages",
        {"slug": "acme", "title": "Acme", "custom_domain": "Status.Example.com", "exclude_maintenance": False},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    page = StatusPage.objects.get(slug="acme")
    assert answer.json()["custom_domain"] == "status.example.com" and answer.json()["components"] == []
    # The domain map is read (and kept) before the change: the write must drop it.
    assert page_slug_for_host("status.example.com") == "acme"
    version = page.content_version

    with django_capture_on_commit_callbacks(execute=True):
        changed = admin.patch(f"/api/v1/status-pages/{page.pk}", {"custom_domain": "up.example.com"}, format="json")
    assert changed.status_code == 200, changed.content
    page.refresh_from_db()
    assert page.content_version > version and page.title == "Acme" and page.exclude_maintenance is False
    assert page_slug_for_host("status.example.com") is None
    assert page_slug_for_host("up.example.com") == "acme"

    replaced = admin.put(f"/api/v1/status-pages/{page.pk}", {"slug": "acme", "title": "Acme Inc."}, format="json")
    assert replaced.status_code == 200 and replaced.json()["title"] == "Acme Inc."
    assert admin.get("/api/v1/status-pages").json()["results"][0]["slug"] == "acme"

    assert admin.delete(f"/api/v1/status-pages/{page.pk}").status_code == 204
    assert not StatusPage.objects.exists() and page_slug_for_host("up.example.com") is None


def test_the_detail_lists_components_with_their_current_status(admin):
    component = ComponentFactory(name="API")
    probe(component.target, DOWN)
    overridden = ComponentFactory(page=component.page, name="Web", status_override="under_maintenance")
    answer = admin.get(f"/api/v1/status-pages/{component.page_id}")
    assert answer.status_code == 200
    rows = {row["name"]: row for row in answer.json()["components"]}
    assert rows["API"]["status"] == "major_outage" and rows["API"]["id"] == component.pk
    assert rows["Web"]["status"] == "under_maintenance" and rows["Web"]["id"] == overridden.pk
    # Components are arranged in the admin: sending them back changes nothing.
    admin.patch(f"/api/v1/status-pages/{component.page_id}", {"components": []}, format="json")
    assert component.page.components.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "not a slug", "title": "x"}, "slug"),
        ({"slug": "b", "title": "x", "custom_domain": "taken.example.com"}, "custom_domain"),
        ({"slug": "b", "title": "x", "custom_domain": "http://bad/"}, "custom_domain"),
        ({"slug": "taken", "title": "x"}, "slug"),
        ({"slug": "b", "title": "x", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_page_is_a_400_naming_the_field_and_writes_nothing(admin, body, field):
    StatusPageFactory(slug="taken", custom_domain="taken.example.com")
    answer = admin.post("/api/v1/status-pages", body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"] == "invalid input" and list(answer.json()["fields"]) == [field]
    assert StatusPage.objects.count() == 1


def test_an_incident_is_opened_updated_and_its_update_reaches_a_subscriber(admin):
    component = ComponentFactory(name="API")
    page = component.page
    Subscriber.objects.create(page=page, kind="email", address="ana@example.com", confirmed_at=timezone.now())
    base = f"/api/v1/status-pages/{page.pk}/incidents"
    opened = admin.post(
        base, {"name": "Slow API", "impact": "major", "components": [component.pk], "body": "Looking."}, format="json"
    )
    assert opened.status_code == 201, opened.content
    incident = opened.json()
    assert incident["status"] == "investigating" and incident["components"] == [component.pk]
    assert [u["body"] for u in incident["updates"]] == ["Looking."]
    assert SubscriberNotice.objects.count() == 1

    renamed = admin.patch(f"{base}/{incident['id']}", {"name": "Slow API calls"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["impact"] == "major"
    assert SubscriberNotice.objects.count() == 1  # an edit is not news

    update = admin.post(f"{base}/{incident['id']}/updates", {"status": "resolved", "body": "Fixed."}, format="json")
    assert update.status_code == 201, update.content
    notices = SubscriberNotice.objects.filter(topic=f"update:{update.json()['id']}")
    assert notices.count() == 1 and notices.get().subscriber.address == "ana@example.com"
    read = admin.get(f"{base}/{incident['id']}").json()
    assert read["status"] == "resolved" and read["resolved_at"] is not None
    assert admin.get(base).json()["results"][0]["name"] == "Slow API calls"
    # The page shows it: its cached copy was dropped.
    assert admin.get(f"/status/{page.slug}/api/v2/incidents.json").json()["incidents"][0]["status"] == "resolved"


def test_bad_incident_input_is_a_400_naming_the_field(admin):
    page, other = StatusPageFactory(), ComponentFactory()
    incident = PublicIncident.objects.create(page=page, name="x")
    base = f"/api/v1/status-pages/{page.pk}/incidents"
    bad_status = admin.post(f"{base}/{incident.pk}/updates", {"status": "fixed", "body": "x"}, format="json")
    assert bad_status.status_code == 400 and list(bad_status.json()["fields"]) == ["status"]
    stranger = admin.post(base, {"name": "x", "body": "y", "components": [other.pk]}, format="json")
    assert stranger.status_code == 400 and list(stranger.json()["fields"]) == ["components"]
    no_body = admin.post(base, {"name": "x"}, format="json")
    assert no_body.status_code == 400 and list(no_body.json()["fields"]) == ["body"]
    assert admin.get(f"/api/v1/status-pages/{page.pk + 1000}/incidents").status_code == 404
    assert PublicIncident.objects.count() == 1 and not incident.updates.exists()


def test_scope_permissions_and_project_limits_are_enforced():
    page = StatusPageFactory()
    incident = PublicIncident.objects.create(page=page, name="x")
    read_admin = client_for(make_api_token(scope="read", role="admin"))
    assert read_admin.get(f"/api/v1/status-pages/{page.pk}").status_code == 200
    assert read_admin.patch(f"/api/v1/status-pages/{page.pk}", {"title": "y"}, format="json").status_code == 403
    updates = f"/api/v1/status-pages/{page.pk}/incidents/{incident.pk}/updates"
    assert read_admin.post(updates, {"status": "resolved", "body": "x"}, format="json").status_code == 403

    # Staff without a role: the token acts as its user, who may not even read the pages.
    staff = UserFactory(is_staff=True)
    bare = client_for(api_token_create(user=staff, scope="write"))
    assert bare.get("/api/v1/status-pages").status_code == 403
    assert bare.delete(f"/api/v1/status-pages/{page.pk}").status_code == 403
    session = APIClient()
    session.force_login(staff)
    assert session.get(f"/api/v1/status-pages/{page.pk}/incidents").status_code == 403
    # A manager configures paging, not the public pages.
    manager = client_for(make_api_token(scope="write", role="manager"))
    assert manager.get("/api/v1/status-pages").status_code == 200
    assert manager.post("/api/v1/status-pages", {"slug": "m", "title": "m"}, format="json").status_code == 403

    # Status pages belong to no project: a project-limited token does not reach them.
    user = UserFactory()
    role_assign(user=user, role="admin")
    limited = client_for(api_token_create(user=user, scope="write", projects=[ProjectFactory()]))
    answer = limited.get("/api/v1/status-pages")
    assert answer.status_code == 403 and "limited to projects" in answer.json()["error"]
    assert limited.get(f"/api/v1/status-pages/{page.pk}/incidents").status_code == 403
    assert StatusPage.objects.filter(title=page.title).count() == 1 and not incident.updates.exists()


def test_lists_keep_their_query_count_as_they_grow(admin):
    page = StatusPageFactory()
    for _ in range(2):
        StatusPageFactory()
        incident = PublicIncident.objects.create(page=page, name="x")
        incident.components.add(ComponentFactory(page=page))
    urls = ("/api/v1/status-pages", f"/api/v1/status-pages/{page.pk}/incidents")
    few = {url: queries_for(admin, url) for url in urls}
    for _ in range(6):
        StatusPageFactory()
        incident = PublicIncident.objects.create(page=page, name="x")
        incident.components.add(ComponentFactory(page=page))
    assert {url: queries_for(admin, url) for url in urls} == few
    assert few["/api/v1/status-pages"] <= 5
