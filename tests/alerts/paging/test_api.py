"""Schedules and escalation policies over the token API, and who is on call, as a team keeping
its rotations in git would script them."""

import pytest

from alerts.models import EscalationPolicy, EscalationStep, OnCallLayer, OnCallSchedule
from tests.alerts.api.conftest import client_for, queries_for
from tests.alerts.paging.factories import T0, ChannelFactory, LayerFactory, PolicyFactory, ScheduleFactory, step
from tests.factories import ProjectFactory, UserFactory, make_api_token

pytestmark = pytest.mark.django_db
DAY = 86400
MON = T0.isoformat()


@pytest.fixture
def manager():
    return client_for(make_api_token(scope="write", role="manager"))


@pytest.fixture
def people():
    return [UserFactory(username=name) for name in ("ana", "ben", "cleo")]


def weekly(people):
    return {
        "name": "Primary",
        "time_zone": "Europe/Berlin",
        "layers": [
            {"name": "weekly", "users": ["ana", "ben"], "starts_at": T0.isoformat(), "rotation_seconds": 7 * DAY}
        ],
        "overrides": [{"user": "cleo", "starts_at": "2026-03-10T00:00:00Z", "ends_at": "2026-03-11T00:00:00Z"}],
    }


def test_a_schedule_is_written_with_its_layers_and_overrides_and_read_back(manager, people):
    created = manager.post("/api/v1/schedules", weekly(people), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["layers"][0]["users"] == ["ana", "ben"] and body["overrides"][0]["user"] == "cleo"
    schedule = OnCallSchedule.objects.get(name="Primary")
    assert schedule.time_zone == "Europe/Berlin" and schedule.layers.count() == 1

    # Layers sent again replace the old ones; a field left out keeps its value.
    layer = {"users": ["cleo"], "starts_at": T0.isoformat(), "rotation_seconds": DAY}
    changed = manager.patch(f"/api/v1/schedules/{schedule.pk}", {"layers": [layer]}, format="json").json()
    assert [row["users"] for row in changed["layers"]] == [["cleo"]]
    assert changed["time_zone"] == "Europe/Berlin" and len(changed["overrides"]) == 1
    assert OnCallLayer.objects.filter(schedule=schedule).count() == 1


def test_who_is_on_call_at_a_time_follows_rotation_and_overrides(manager, people):
    schedule = manager.post("/api/v1/schedules", weekly(people), format="json").json()
    url = f"/api/v1/schedules/{schedule['id']}/oncall"
    first = manager.get(url, {"at": "2026-03-03T12:00:00Z"}).json()
    assert first["users"] == ["ana"] and first["until"] == "2026-03-09T09:00:00Z"
    assert first["next"]["users"] == ["ben"]
    assert manager.get(url, {"at": "2026-03-10T12:00:00Z"}).json()["users"] == ["cleo"]
    assert manager.get(url, {"at": "2026-03-11T12:00:00Z"}).json()["users"] == ["ben"]
    assert manager.get(url).status_code == 200  # now


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"layers": [{"users": ["nobody"], "starts_at": "2026-03-02T09:00:00Z"}]}, "layers[0].users"),
        ({"layers": [{"users": [], "starts_at": "2026-03-02T09:00:00Z"}]}, "layers[0].users"),
        (
            {"layers": [{"users": ["ana"], "starts_at": "2026-03-02T09:00:00Z", "restrict_start": "09:00"}]},
            "layers[0].restrict_end",
        ),
        ({"layers": [{"users": ["ana"], "starts_at": "2026-03-02T09:00:00Z", "rotation_seconds": 60}]}, "layers"),
        (
            {"overrides": [{"user": "ana", "starts_at": "2026-03-02T09:00:00Z", "ends_at": "2026-03-01T09:00:00Z"}]},
            "overrides",
        ),
        (
            {"overrides": [{"user": "ghost", "starts_at": "2026-03-02T09:00:00Z", "ends_at": "2026-03-03T09:00:00Z"}]},
            "overrides",
        ),
        ({"overrides": [{"user": "a\x00b", "starts_at": MON, "ends_at": "2026-03-03T09:00:00Z"}]}, "overrides"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_schedule_is_a_400_naming_the_field_and_writes_nothing(manager, people, change, field):
    answer = manager.post("/api/v1/schedules", {**weekly(people), **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not OnCallSchedule.objects.exists()


def test_a_taken_schedule_name_is_a_400_naming_it(manager, people):
    ScheduleFactory(name="Primary")
    answer = manager.post("/api/v1/schedules", weekly(people), format="json")
    assert answer.status_code == 400 and list(answer.json()["fields"]) == ["name"]


@pytest.mark.parametrize("at", ["yesterday", "3 March", "9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z"])
def test_a_bad_time_to_ask_about_is_a_400_naming_at(manager, at):
    schedule = ScheduleFactory()
    answer = manager.get(f"/api/v1/schedules/{schedule.pk}/oncall", {"at": at})
    assert answer.status_code == 400 and list(answer.json()["fields"]) == ["at"]


def test_a_policy_is_written_with_its_steps_and_says_whom_it_pages(manager, people):
    schedule = manager.post("/api/v1/schedules", weekly(people), format="json").json()
    channel = ChannelFactory()
    body = {
        "name": "Checkout",
        "repeat": 1,
        "steps": [
            {"order": 0, "delay_minutes": 0, "schedule": schedule["id"]},
            {"order": 1, "delay_minutes": 15, "users": ["cleo"], "channels": [channel.pk]},
        ],
    }
    created = manager.post("/api/v1/escalation-policies", body, format="json")
    assert created.status_code == 201, created.content
    assert [s["users"] for s in created.json()["steps"]] == [[], ["cleo"]]
    policy = EscalationPolicy.objects.get(name="Checkout")
    assert EscalationStep.objects.filter(policy=policy).count() == 2

    paged = manager.get(f"/api/v1/escalation-policies/{policy.pk}/oncall", {"at": "2026-03-10T12:00:00Z"}).json()
    assert [(s["step"], s["wait_minutes"], s["users"]) for s in paged["steps"]] == [
        (1, 0, ["cleo"]),  # the override's
        (2, 15, ["cleo"]),
    ]
    assert paged["steps"][1]["channels"] == [channel.pk]
    later = manager.get(f"/api/v1/escalation-policies/{policy.pk}/oncall", {"at": "2026-03-03T12:00:00Z"}).json()
    assert later["steps"][0]["users"] == ["ana"]


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([{"order": 0, "delay_minutes": 5}], "steps[0]"),
        ([{"order": 0, "schedule": 999999}], "steps"),
        ([{"order": 0, "users": ["ghost"]}], "steps"),
        ([{"order": 0, "users": ["a\x00b"]}], "steps"),
        ([{"order": 0, "channels": [999999]}], "steps"),
        ([{"order": 0, "users": ["ana"], "delay_minutes": -1}], "steps"),
    ],
)
def test_a_bad_policy_is_a_400_naming_the_step_and_writes_nothing(manager, people, steps, field):
    answer = manager.post("/api/v1/escalation-policies", {"name": "P", "steps": steps}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not EscalationPolicy.objects.exists()


def test_updating_a_policy_replaces_its_steps(manager, people):
    policy = PolicyFactory(name="Old")
    step(policy, users=[people[0]])
    answer = manager.put(
        f"/api/v1/escalation-policies/{policy.pk}",
        {"name": "New", "repeat": 0, "description": "", "steps": [{"order": 0, "users": ["ben", "cleo"]}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["name"] == "New" and answer.json()["steps"][0]["users"] == ["ben", "cleo"]
    assert EscalationStep.objects.filter(policy=policy).count() == 1
    assert manager.delete(f"/api/v1/escalation-policies/{policy.pk}").status_code == 204
    assert not EscalationStep.objects.exists()


def test_lists_keep_their_query_count_as_they_grow(manager, people):
    for _ in range(2):
        LayerFactory(schedule=ScheduleFactory(), users=["ana"])
        step(PolicyFactory(), users=people[:2], channels=[ChannelFactory()])
    few = {url: queries_for(manager, url) for url in ("/api/v1/schedules", "/api/v1/escalation-policies")}
    for _ in range(6):
        LayerFactory(schedule=ScheduleFactory(), users=["ben"])
        step(PolicyFactory(), users=people, channels=[ChannelFactory()])
    assert {url: queries_for(manager, url) for url in few} == few


def test_roles_scopes_and_project_limits_are_enforced(people):
    policy = PolicyFactory()
    viewer = client_for(make_api_token(scope="write", role="viewer"))
    reader = client_for(make_api_token(scope="read", role="admin"))
    assert viewer.get("/api/v1/escalation-policies").status_code == 200
    assert viewer.delete(f"/api/v1/escalation-policies/{policy.pk}").status_code == 403
    assert reader.post("/api/v1/schedules", {"name": "x"}, format="json").status_code == 403
    # Policies and schedules belong to no project: a project-limited token does not reach them.
    from monitoring.projects.roles import role_assign
    from monitoring.projects.services.api_tokens import api_token_create

    user = UserFactory()
    role_assign(user=user, role="manager")
    limited = client_for(api_token_create(user=user, scope="write", projects=[ProjectFactory()]))
    assert limited.get("/api/v1/schedules").status_code == 403
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()
