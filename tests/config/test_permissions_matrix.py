"""Roles × interfaces × actions: what viewer, responder, manager and admin may do in the admin,
on the on-call pages, through the REST API with a token, and at the intake. A staff user with
no role is the row that used to slip through outside the admin.

MATRIX is the table: one row an action tried through one interface, one column a role. Each
cell is its own test case (`test_matrix[api-acknowledge an incident-responder]`), which does
the action as a user of that role would and checks what that user sees: the status code, and
that the database changed when the cell says allowed and did not when it says refused.

What the roles grant is monitoring/projects/roles.py: a viewer reads; a responder also works
incidents (alerts.change_incident); a manager also configures rules, channels, schedules,
escalation policies and silences; an admin also projects and users. Snoozing is offered on
the on-call pages and the REST API; the incident admin has no snooze.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.incidents.services.incidents import alerts_receive, incident_resolve
from alerts.models import AlertRule, Channel, EscalationPolicy, Incident, IncidentEvent, OnCallSchedule, Silence
from monitoring.models import Project, Target
from monitoring.projects.roles import ROLES, role_assign, user_role
from tests.alerts.factories import ChannelFactory
from tests.alerts.paging.factories import PolicyFactory, ScheduleFactory, firing, make_integration
from tests.factories import ProjectFactory, UserFactory, make_api_token
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db

NONE = "no role"
COLUMNS = (NONE, "viewer", "responder", "manager", "admin")
Y, N = True, False

MATRIX = {
    # interface, action                          no role  viewer  responder  manager  admin
    ("admin", "read incidents"):                     (N,     Y,      Y,         Y,       Y),
    ("admin", "read targets"):                       (N,     Y,      Y,         Y,       Y),
    ("admin", "acknowledge (list action)"):          (N,     N,      Y,         Y,       Y),
    ("admin", "resolve (list action)"):              (N,     N,      Y,         Y,       Y),
    ("admin", "acknowledge on the incident page"):   (N,     N,      Y,         Y,       Y),
    ("admin", "resolve on the incident page"):       (N,     N,      Y,         Y,       Y),
    ("admin", "comment on the incident page"):       (N,     N,      Y,         Y,       Y),
    ("admin", "reopen on the incident page"):        (N,     N,      Y,         Y,       Y),
    ("admin", "open the add-rule form"):             (N,     N,      N,         Y,       Y),
    ("admin", "open the add-channel form"):          (N,     N,      N,         Y,       Y),
    ("admin", "open the add-schedule form"):         (N,     N,      N,         Y,       Y),
    ("admin", "open the add-project form"):          (N,     N,      N,         N,       Y),
    ("admin", "manage users"):                       (N,     N,      N,         N,       Y),
    ("oncall", "read the team page"):                (N,     Y,      Y,         Y,       Y),
    ("oncall", "read my incidents"):                 (N,     Y,      Y,         Y,       Y),
    ("oncall", "read an incident"):                  (N,     Y,      Y,         Y,       Y),
    ("oncall", "acknowledge"):                       (N,     N,      Y,         Y,       Y),
    ("oncall", "resolve"):                           (N,     N,      Y,         Y,       Y),
    ("oncall", "comment"):                           (N,     N,      Y,         Y,       Y),
    ("oncall", "snooze"):                            (N,     N,      Y,         Y,       Y),
    ("api", "read incidents"):                       (N,     Y,      Y,         Y,       Y),
    ("api", "acknowledge an incident"):              (N,     N,      Y,         Y,       Y),
    ("api", "resolve an incident"):                  (N,     N,      Y,         Y,       Y),
    ("api", "comment on an incident"):               (N,     N,      Y,         Y,       Y),
    ("api", "snooze an incident"):                   (N,     N,      Y,         Y,       Y),
    ("api", "read targets"):                         (N,     Y,      Y,         Y,       Y),
    ("api", "create a target"):                      (N,     N,      N,         Y,       Y),
    ("api", "pause a target"):                       (N,     N,      N,         Y,       Y),
    ("api", "read rules"):                           (N,     Y,      Y,         Y,       Y),
    ("api", "create a rule"):                        (N,     N,      N,         Y,       Y),
    ("api", "change a rule"):                        (N,     N,      N,         Y,       Y),
    ("api", "read channels"):                        (N,     Y,      Y,         Y,       Y),
    ("api", "create a channel"):                     (N,     N,      N,         Y,       Y),
    ("api", "change a channel"):                     (N,     N,      N,         Y,       Y),
    ("api", "read schedules"):                       (N,     Y,      Y,         Y,       Y),
    ("api", "create a schedule"):                    (N,     N,      N,         Y,       Y),
    ("api", "change a schedule"):                    (N,     N,      N,         Y,       Y),
    ("api", "delete a schedule"):                    (N,     N,      N,         Y,       Y),
    ("api", "read escalation policies"):             (N,     Y,      Y,         Y,       Y),
    ("api", "create an escalation policy"):          (N,     N,      N,         Y,       Y),
    ("api", "change an escalation policy"):          (N,     N,      N,         Y,       Y),
    ("api", "delete an escalation policy"):          (N,     N,      N,         Y,       Y),
    ("api", "create a silence"):                     (N,     N,      N,         Y,       Y),
    ("api", "create a project"):                     (N,     N,      N,         N,       Y),
    ("intake", "send an event with a user's token"): (N,     N,      N,         N,       N),
}  # fmt: skip


# --- Who tries: a staff user of the role, signed in, with a write-scoped token of their own.


@dataclass
class Person:
    user: Any
    client: Client
    token: str

    def api(self, method: str, path: str, body: dict | None = None):
        kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
        return getattr(self.client, method)(path, HTTP_AUTHORIZATION=f"Bearer {self.token}", **kwargs)


@pytest.fixture
def person(client):
    def sign_in(role: str) -> Person:
        user = UserFactory(is_staff=True)
        if role != NONE:
            role_assign(user=user, role=role)
        client.force_login(user)
        return Person(user=user, client=client, token=make_api_token(user=user, scope="write").secret)

    return sign_in


def _incident(*, resolved: bool = False) -> Incident:
    integration, now = make_integration().integration, timezone.now()
    [incident] = alerts_receive(
        signals=[firing(integration=integration, dedup_key=f"ext:{integration.pk}", at=now)], now=now
    )
    if resolved:
        incident_resolve(incident=incident, actor=None, now=now)
    return Incident.objects.get(pk=incident.pk)


def _status(incident: Incident) -> str:
    incident.refresh_from_db()
    return incident.status


def _commented(incident: Incident) -> bool:
    return IncidentEvent.objects.filter(incident=incident, message="looking").exists()


# --- How each action is tried. A `Tried` holds the answer and whether the database changed
# (None for a read, which changes nothing to look at).


@dataclass
class Tried:
    status: int
    changed: bool | None = None


@dataclass
class Way:
    attempt: Callable[[Person], Tried]
    ok: int  # the status when allowed
    refused: int  # the status when refused
    refused_to: dict[str, int]  # a role that sees another status when refused

    def expected(self, role: str, allowed: bool) -> int:
        return self.ok if allowed else self.refused_to.get(role, self.refused)


WAYS: dict[tuple[str, str], Way] = {}


def row(interface: str, name: str, *, ok: int = 200, refused: int = 403, refused_to: dict[str, int] | None = None):
    """Registers how the table's row (interface, name) is tried."""

    def register(attempt):
        WAYS[(interface, name)] = Way(attempt, ok, refused, refused_to or {})
        return attempt

    return register


def _read(path: str) -> Callable[[Person], Tried]:
    return lambda me: Tried(me.client.get(path).status_code)


def _api_read(path: str) -> Callable[[Person], Tried]:
    return lambda me: Tried(me.api("get", path).status_code)


# The admin: Django's model permissions, from the role's group.

for name, url in (
    ("read incidents", "admin:alerts_incident_changelist"),
    ("read targets", "admin:monitoring_target_changelist"),
    ("open the add-rule form", "admin:alerts_alertrule_add"),
    ("open the add-channel form", "admin:alerts_channel_add"),
    ("open the add-schedule form", "admin:alerts_oncallschedule_add"),
    ("open the add-project form", "admin:monitoring_project_add"),
    ("manage users", "admin:auth_user_changelist"),
):
    row("admin", name)(lambda me, url=url: Tried(me.client.get(reverse(url)).status_code))


def _list_action(me: Person, name: str, status: str) -> Tried:
    incident = _incident()
    answer = me.client.post(
        reverse("admin:alerts_incident_changelist"), {"action": name, "_selected_action": [incident.pk]}
    )
    return Tried(answer.status_code, _status(incident) == status)


# The admin offers no action to who may not run it: posted anyway by a viewer (who may read the
# list), it answers the list again, having done nothing.
LIST_REFUSED = {"viewer": 200}


@row("admin", "acknowledge (list action)", ok=302, refused_to=LIST_REFUSED)
def _(me):
    return _list_action(me, "acknowledge_selected", Incident.Status.ACKNOWLEDGED)


@row("admin", "resolve (list action)", ok=302, refused_to=LIST_REFUSED)
def _(me):
    return _list_action(me, "resolve_selected", Incident.Status.RESOLVED)


def _act(me: Person, incident: Incident, verb: str, **form) -> int:
    return me.client.post(reverse("admin:alerts_incident_act", args=[incident.pk, verb]), form).status_code


@row("admin", "acknowledge on the incident page", ok=302)
def _(me):
    incident = _incident()
    return Tried(_act(me, incident, "acknowledge"), _status(incident) == Incident.Status.ACKNOWLEDGED)


@row("admin", "resolve on the incident page", ok=302)
def _(me):
    incident = _incident()
    return Tried(_act(me, incident, "resolve"), _status(incident) == Incident.Status.RESOLVED)


@row("admin", "comment on the incident page", ok=302)
def _(me):
    incident = _incident()
    return Tried(_act(me, incident, "comment", message="looking"), _commented(incident))


@row("admin", "reopen on the incident page", ok=302)
def _(me):
    incident = _incident(resolved=True)
    return Tried(_act(me, incident, "reopen"), _status(incident) == Incident.Status.TRIGGERED)


# The on-call pages.

row("oncall", "read the team page")(_read("/oncall/"))
row("oncall", "read my incidents")(_read("/oncall/mine"))


@row("oncall", "read an incident")
def _(me):
    return Tried(me.client.get(f"/oncall/incidents/{_incident().pk}").status_code)


def _oncall(me: Person, incident: Incident, verb: str, **form) -> int:
    return me.client.post(f"/oncall/incidents/{incident.pk}/{verb}", form).status_code


@row("oncall", "acknowledge", ok=302)
def _(me):
    incident = _incident()
    return Tried(_oncall(me, incident, "acknowledge"), _status(incident) == Incident.Status.ACKNOWLEDGED)


@row("oncall", "resolve", ok=302)
def _(me):
    incident = _incident()
    return Tried(_oncall(me, incident, "resolve"), _status(incident) == Incident.Status.RESOLVED)


@row("oncall", "comment", ok=302)
def _(me):
    incident = _incident()
    return Tried(_oncall(me, incident, "comment", message="looking"), _commented(incident))


@row("oncall", "snooze", ok=302)
def _(me):
    incident = _incident()
    status = _oncall(me, incident, "snooze", **{"for": "1h"})
    incident.refresh_from_db()
    return Tried(status, incident.snoozed_until is not None)


# The REST API: a token acts as its user, within its scope (write, here).

row("api", "read incidents")(_api_read("/api/v1/incidents"))
row("api", "read targets")(_api_read("/api/v1/targets"))
row("api", "read rules")(_api_read("/api/v1/rules"))
row("api", "read channels")(_api_read("/api/v1/channels"))
row("api", "read schedules")(_api_read("/api/v1/schedules"))
row("api", "read escalation policies")(_api_read("/api/v1/escalation-policies"))


@row("api", "acknowledge an incident")
def _(me):
    incident = _incident()
    status = me.api("post", f"/api/v1/incidents/{incident.pk}/acknowledge").status_code
    return Tried(status, _status(incident) == Incident.Status.ACKNOWLEDGED)


@row("api", "resolve an incident")
def _(me):
    incident = _incident()
    status = me.api("post", f"/api/v1/incidents/{incident.pk}/resolve", {"message": "fixed"}).status_code
    return Tried(status, _status(incident) == Incident.Status.RESOLVED)


@row("api", "comment on an incident", ok=201)
def _(me):
    incident = _incident()
    status = me.api("post", f"/api/v1/incidents/{incident.pk}/comment", {"message": "looking"}).status_code
    return Tried(status, _commented(incident))


@row("api", "snooze an incident")
def _(me):
    incident = _incident()
    status = me.api("post", f"/api/v1/incidents/{incident.pk}/snooze", {"minutes": 60}).status_code
    incident.refresh_from_db()
    return Tried(status, incident.snoozed_until is not None)


@row("api", "create a target", ok=201)
def _(me):
    body = {"project": ProjectFactory().pk, "name": "Shop", "kind": "http", "url": "https://shop.example/health"}
    return Tried(me.api("post", "/api/v1/targets", body).status_code, Target.objects.filter(name="Shop").exists())


@row("api", "pause a target")
def _(me):
    target = TargetFactory()
    status = me.api("post", f"/api/v1/targets/{target.pk}/pause").status_code
    target.refresh_from_db()
    return Tried(status, target.paused)


RULE_PARAMS = {"metric": "http.latency", "agg": "p95", "window_minutes": 5, "operator": "gt", "threshold": 2000}


def _rule() -> AlertRule:
    return AlertRule.objects.create(
        name="Checkout slow", kind="metric_threshold", project=ProjectFactory(), params=RULE_PARAMS
    )


@row("api", "create a rule", ok=201)
def _(me):
    body = {"name": "Checkout slow", "kind": "metric_threshold", "project": ProjectFactory().pk, "params": RULE_PARAMS}
    return Tried(me.api("post", "/api/v1/rules", body).status_code, AlertRule.objects.exists())


@row("api", "change a rule")
def _(me):
    rule = _rule()
    status = me.api("patch", f"/api/v1/rules/{rule.pk}", {"name": "Checkout very slow"}).status_code
    rule.refresh_from_db()
    return Tried(status, rule.name == "Checkout very slow")


@row("api", "create a channel", ok=201)
def _(me):
    body = {"name": "ops mail", "kind": "email", "config": {"to": ["ops@example.com"]}}
    return Tried(me.api("post", "/api/v1/channels", body).status_code, Channel.objects.filter(name="ops mail").exists())


@row("api", "change a channel")
def _(me):
    channel = ChannelFactory()
    status = me.api("patch", f"/api/v1/channels/{channel.pk}", {"enabled": False}).status_code
    channel.refresh_from_db()
    return Tried(status, not channel.enabled)


@row("api", "create a schedule", ok=201)
def _(me):
    status = me.api("post", "/api/v1/schedules", {"name": "Primary", "time_zone": "UTC"}).status_code
    return Tried(status, OnCallSchedule.objects.filter(name="Primary").exists())


@row("api", "change a schedule")
def _(me):
    schedule = ScheduleFactory()
    status = me.api("patch", f"/api/v1/schedules/{schedule.pk}", {"name": "Secondary"}).status_code
    schedule.refresh_from_db()
    return Tried(status, schedule.name == "Secondary")


@row("api", "delete a schedule", ok=204)
def _(me):
    schedule = ScheduleFactory()
    status = me.api("delete", f"/api/v1/schedules/{schedule.pk}").status_code
    return Tried(status, not OnCallSchedule.objects.filter(pk=schedule.pk).exists())


@row("api", "create an escalation policy", ok=201)
def _(me):
    status = me.api("post", "/api/v1/escalation-policies", {"name": "Checkout"}).status_code
    return Tried(status, EscalationPolicy.objects.filter(name="Checkout").exists())


@row("api", "change an escalation policy")
def _(me):
    policy = PolicyFactory()
    status = me.api("patch", f"/api/v1/escalation-policies/{policy.pk}", {"repeat": 3}).status_code
    policy.refresh_from_db()
    return Tried(status, policy.repeat == 3)


@row("api", "delete an escalation policy", ok=204)
def _(me):
    policy = PolicyFactory()
    status = me.api("delete", f"/api/v1/escalation-policies/{policy.pk}").status_code
    return Tried(status, not EscalationPolicy.objects.filter(pk=policy.pk).exists())


@row("api", "create a silence", ok=201)
def _(me):
    body = {
        "matchers": [{"name": "target", "op": "=", "value": "shop"}],
        "starts_at": "2026-03-02T09:00:00Z",
        "ends_at": "2026-03-02T11:00:00Z",
        "comment": "deploy",
    }
    return Tried(me.api("post", "/api/v1/silences", body).status_code, Silence.objects.exists())


@row("api", "create a project", ok=201)
def _(me):
    status = me.api("post", "/api/v1/projects", {"name": "Another"}).status_code
    return Tried(status, Project.objects.filter(name="Another").exists())


# The intake takes an integration's token, never a person's, whatever their role.


@row("intake", "send an event with a user's token", ok=202, refused=401)
def _(me):
    make_integration("events")
    payload = {"summary": "s", "source": "x", "severity": "critical"}
    body = {"event_action": "trigger", "dedup_key": "d1", "payload": payload}
    return Tried(me.api("post", "/api/v1/alerts/events", body).status_code, Incident.objects.exists())


# --- The table's cells, one test case each.

CELLS = [
    pytest.param(role, interface, name, allowed, id=f"{interface}-{name}-{role}")
    for (interface, name), row in MATRIX.items()
    for role, allowed in zip(COLUMNS, row, strict=True)
]


def test_every_row_of_the_table_is_tried_and_every_way_of_trying_has_a_row():
    assert set(WAYS) == set(MATRIX)


@pytest.mark.parametrize(("role", "interface", "action", "allowed"), CELLS)
def test_matrix(person, role, interface, action, allowed):
    way = WAYS[(interface, action)]
    outcome = way.attempt(person(role))
    assert outcome.status == way.expected(role, allowed)
    if outcome.changed is not None:
        # A refusal leaves nothing behind; an allowed action is really done.
        assert outcome.changed == allowed


# --- The REST API's scope and its refusals.


def test_a_read_token_never_writes_whatever_its_user_may_do(client):
    token = make_api_token(role="admin", scope="read").secret
    project = ProjectFactory()
    body = json.dumps({"project": project.pk, "name": "x", "kind": "http"})
    response = client.post(
        "/api/v1/targets", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 403
    assert "scope is read" in response.content.decode()
    assert not Target.objects.exists()


def test_a_refusal_names_the_permission_the_user_lacks(person):
    me = person("responder")
    response = me.api("post", "/api/v1/rules", {"name": "r", "kind": "metric_threshold", "params": RULE_PARAMS})
    assert response.status_code == 403
    assert "alerts.add_alertrule" in response.content.decode()


def test_a_deactivated_users_token_is_refused(person):
    me = person("admin")
    me.user.is_active = False
    me.user.save()
    assert me.api("get", "/api/v1/targets").status_code in (401, 403)


# --- The intake: an integration's token, never a person's.


def test_the_intake_takes_an_integrations_token_and_says_why_it_refuses_a_persons(client):
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
