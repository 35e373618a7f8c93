"""Roles × actions × interfaces: what viewer, responder, manager and admin may do in the admin,
on the on-call pages, through the REST API with a token, and at the intake. A staff user with
no role is the row that used to slip through outside the admin."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import Incident, IncidentEvent
from monitoring.models import Project, Target
from monitoring.projects.roles import ROLES, role_assign, user_role
from tests.alerts.paging.factories import firing, make_integration
from tests.factories import ProjectFactory, UserFactory, make_api_token
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db

NONE = "no role"
RANKS = {NONE: 0, "viewer": 1, "responder": 2, "manager": 3, "admin": 4}
EVERYONE = list(RANKS)


@pytest.fixture
def person(client):
    """A signed-in staff user with the role asked for (or none)."""

    def sign_in(role: str):
        user = UserFactory(is_staff=True)
        if role != NONE:
            role_assign(user=user, role=role)
        client.force_login(user)
        return user

    return sign_in


def _incident() -> Incident:
    integration, now = make_integration().integration, timezone.now()
    [incident] = alerts_receive(
        signals=[firing(integration=integration, dedup_key=f"ext:{integration.pk}", at=now)], now=now
    )
    return Incident.objects.get(pk=incident.pk)


def _allowed(role: str, needs: str) -> bool:
    return RANKS[role] >= RANKS[needs]


# --- The admin: Django's own model permissions, from the role's group.

ADMIN_PAGES = [
    ("read incidents", "admin:alerts_incident_changelist", "viewer"),
    ("read targets", "admin:monitoring_target_changelist", "viewer"),
    ("add a rule", "admin:alerts_alertrule_add", "manager"),
    ("add a channel", "admin:alerts_channel_add", "manager"),
    ("add a schedule", "admin:alerts_oncallschedule_add", "manager"),
    ("add a project", "admin:monitoring_project_add", "admin"),
    ("manage users", "admin:auth_user_changelist", "admin"),
]


@pytest.mark.parametrize("role", EVERYONE)
def test_admin_pages(client, person, role):
    person(role)
    for action, name, needs in ADMIN_PAGES:
        status = client.get(reverse(name)).status_code
        assert status == (200 if _allowed(role, needs) else 403), f"{role} → {action}: {status}"


@pytest.mark.parametrize("role", EVERYONE)
def test_admin_acknowledge_action(client, person, role):
    person(role)
    incident = _incident()
    client.post(
        reverse("admin:alerts_incident_changelist"),
        {"action": "acknowledge_selected", "_selected_action": [incident.pk]},
    )
    incident.refresh_from_db()
    assert (incident.status == Incident.Status.ACKNOWLEDGED) == _allowed(role, "responder")


# --- The on-call pages.


@pytest.mark.parametrize("role", EVERYONE)
def test_oncall_pages(client, person, role):
    person(role)
    incident = _incident()
    reads = [client.get("/oncall/").status_code, client.get(f"/oncall/incidents/{incident.pk}").status_code]
    assert reads == ([200, 200] if _allowed(role, "viewer") else [403, 403])

    expected = 302 if _allowed(role, "responder") else 403
    acts = {
        "comment": client.post(f"/oncall/incidents/{incident.pk}/comment", {"message": "looking"}).status_code,
        "acknowledge": client.post(f"/oncall/incidents/{incident.pk}/acknowledge").status_code,
        "snooze": client.post(f"/oncall/incidents/{incident.pk}/snooze", {"for": "1h"}).status_code,
        "resolve": client.post(f"/oncall/incidents/{incident.pk}/resolve").status_code,
    }
    assert acts == dict.fromkeys(acts, expected), role
    incident.refresh_from_db()
    # A refused action leaves nothing behind: no comment, still triggered.
    assert (incident.status == Incident.Status.RESOLVED) == _allowed(role, "responder")
    commented = IncidentEvent.objects.filter(incident=incident, message="looking").exists()
    assert commented == _allowed(role, "responder")


# --- The REST API: a token acts as its user, within its scope.


def _api(client, token, method, path, body=None):
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
    return getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)


@pytest.mark.parametrize("role", EVERYONE)
def test_api_with_a_write_token(client, role):
    user = UserFactory()
    if role != NONE:
        role_assign(user=user, role=role)
    token = make_api_token(user=user, scope="write").secret
    project = ProjectFactory()
    target = TargetFactory(project=project)
    new_target = {"project": project.pk, "name": "Shop", "kind": "http", "url": "https://shop.example/health"}

    answers = {
        "read targets": (_api(client, token, "get", "/api/v1/targets").status_code, 200, "viewer"),
        "create a target": (_api(client, token, "post", "/api/v1/targets", new_target).status_code, 201, "manager"),
        "pause a target": (
            _api(client, token, "post", f"/api/v1/targets/{target.pk}/pause").status_code,
            200,
            "manager",
        ),
        "create a project": (
            _api(client, token, "post", "/api/v1/projects", {"name": "Another"}).status_code,
            201,
            "admin",
        ),
    }
    for action, (status, ok, needs) in answers.items():
        assert status == (ok if _allowed(role, needs) else 403), f"{role} → {action}: {status}"
    # Nothing refused was written.
    assert Target.objects.filter(name="Shop").exists() == _allowed(role, "manager")
    assert Project.objects.filter(name="Another").exists() == _allowed(role, "admin")


def test_a_read_token_never_writes_whatever_its_user_may_do(client):
    token = make_api_token(role="admin", scope="read").secret
    project = ProjectFactory()
    response = _api(client, token, "post", "/api/v1/targets", {"project": project.pk, "name": "x", "kind": "http"})
    assert response.status_code == 403
    assert "scope is read" in response.content.decode()


def test_a_refusal_names_the_permission_the_user_lacks(client):
    token = make_api_token(role="viewer", scope="write").secret
    response = _api(client, token, "post", "/api/v1/projects", {"name": "Another"})
    assert response.status_code == 403
    assert "monitoring.add_project" in response.content.decode()


def test_a_deactivated_users_token_is_refused(client):
    user = UserFactory()
    role_assign(user=user, role="admin")
    token = make_api_token(user=user, scope="write").secret
    user.is_active = False
    user.save()
    assert _api(client, token, "get", "/api/v1/targets").status_code in (401, 403)


# --- The intake: an integration's token, never a person's.


def test_the_intake_takes_an_integrations_token_and_refuses_a_persons(client):
    integration = make_integration("events")
    payload = {"summary": "s", "source": "x", "severity": "critical"}
    body = json.dumps({"event_action": "trigger", "dedup_key": "d1", "payload": payload})
    for token, expected in ((integration.token, 202), (make_api_token(role="admin", scope="write").secret, 401)):
        response = client.post(
            "/api/v1/alerts/events", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == expected, response.content
    assert "integration's token" in response.content.decode()


# --- Giving roles.


def test_assignrole_gives_exactly_one_role_and_refuses_bad_arguments(capsys):
    user = UserFactory(username="carol")
    call_command("assignrole", "carol", "viewer")
    call_command("assignrole", "carol", "manager")
    user.refresh_from_db()
    assert user_role(user) == "manager" and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["manager"]
    assert user.has_perm("alerts.add_alertrule") and not user.has_perm("monitoring.add_project")
    with pytest.raises(CommandError) as unknown:
        call_command("assignrole", "nobody", "viewer")
    assert unknown.value.returncode == 2 and "username" in str(unknown.value)
    with pytest.raises(CommandError) as missing:
        call_command("assignrole")
    assert missing.value.returncode == 2


def test_sync_writes_the_four_groups_back_to_their_definitions():
    from django.contrib.auth.models import Group

    call_command("assignrole", "--sync")
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.clear()  # edited by hand in the admin's group page
    call_command("assignrole", "--sync")
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(ROLES)
    assert viewer.permissions.filter(codename="view_incident").exists()
    assert not viewer.permissions.exclude(codename__startswith="view_").exists()
