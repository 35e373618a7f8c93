"""Paging in the admin: schedules, policies and integrations, with errors on their fields."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.intake.services import integration_authenticate
from alerts.models import EscalationPolicy, Integration, OnCallLayer, OnCallOverride, OnCallSchedule
from monitoring.projects.roles import role_assign
from tests.alerts.paging.factories import T0, ChannelFactory, LayerFactory, ScheduleFactory, make_integration
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
EMPTY = {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


def formset(prefix, rows=(), **management):
    data = {f"{prefix}-{key}": value for key, value in {**EMPTY, **management, "TOTAL_FORMS": len(rows)}.items()}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def schedule_form(time_zone="Europe/Berlin", layers=(), overrides=()):
    return {
        "name": "Primary",
        "time_zone": time_zone,
        "description": "",
        **formset("layers", layers),
        **formset("overrides", overrides),
    }


def layer_row(users=("alice", "bob"), **kwargs):
    return {
        "name": "weekly",
        "priority": 0,
        **{f"users_{n}": name for n, name in enumerate(users)},
        "starts_at_0": "2026-03-02",
        "starts_at_1": "09:00:00",
        "rotation_every": 7,
        "rotation_unit": "days",
        "restrict_start": "",
        "restrict_end": "",
        **kwargs,
    }


@pytest.mark.parametrize("name", ["oncallschedule", "escalationpolicy", "integration"])
def test_pages_need_login_and_open_for_admins(admin_client, name):
    url = reverse(f"admin:alerts_{name}_changelist")
    assert Client().get(url).status_code == 302
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(reverse(f"admin:alerts_{name}_add")).status_code == 200


def test_schedule_errors_are_field_errors_and_nothing_is_saved(admin_client):
    UserFactory(username="alice")
    response = admin_client.post(
        reverse("admin:alerts_oncallschedule_add"),
        schedule_form(time_zone="Mars/Olympus", layers=[layer_row(users=("alice", "ghost"), restrict_start="09:00")]),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "is not a known time zone" in body
    assert "no active user ghost" in body
    assert "a daily restriction needs both a start and an end" in body
    assert not OnCallSchedule.objects.exists() and not OnCallLayer.objects.exists()


def test_schedule_saves_usernames_in_order_and_shows_who_is_on_call(admin_client):
    UserFactory(username="alice"), UserFactory(username="bob")
    response = admin_client.post(
        reverse("admin:alerts_oncallschedule_add"), schedule_form(layers=[layer_row(starts_at_1="08:00:00")])
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = OnCallSchedule.objects.get()
    assert schedule.layers.get().users == ["alice", "bob"]
    page = admin_client.get(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk])).content.decode()
    assert "who is on call now, and the next shifts" in page.lower()
    assert re.search(r"<strong>alice</strong>\s*\(now\)", page)
    # 08:00 UTC in the form is 09:00 in Berlin, and stays 09:00 once summer time starts.
    assert re.search(r"<strong>bob</strong></td>\s*<td[^>]*>Mon 9 Mar 2026 09:00 CET", page)
    assert re.search(r"<td[^>]*>Mon 30 Mar 2026 09:00 CEST</td>", page)
    # The rotation is two pickers in order, and a week reads as 7 days, not 604800 seconds.
    assert re.search(r'name="layers-0-users_0"[^>]*>.*?<option value="alice" selected>', page, re.S)
    assert re.search(r'name="layers-0-users_1"[^>]*>.*?<option value="bob" selected>', page, re.S)
    assert 'name="layers-0-rotation_every" value="7"' in page
    # The next handoffs, in Berlin time: bob takes over on Monday at 09:00.
    assert "Mon 9 Mar 2026 09:00 CET</span> → <strong>bob</strong>" in page


def test_a_user_added_in_a_spare_picker_of_a_saved_layer_is_saved(admin_client):
    UserFactory(username="alice"), UserFactory(username="bob")
    schedule = ScheduleFactory(time_zone="UTC")
    layer = LayerFactory(schedule=schedule, users=["alice"], starts_at=T0, rotation_seconds=7 * 86400)
    data = schedule_form(time_zone="UTC")
    row = layer_row(
        id=layer.pk, schedule=schedule.pk, name=layer.name, starts_at_0=f"{T0:%Y-%m-%d}", starts_at_1=f"{T0:%H:%M:%S}"
    )
    data.update(formset("layers", [row], INITIAL_FORMS=1))
    data["name"] = schedule.name
    response = admin_client.post(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    layer.refresh_from_db()
    assert layer.users == ["alice", "bob"]


def test_override_must_end_after_it_starts(admin_client):
    user = UserFactory(username="alice")
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, users=["alice"])
    layer = schedule.layers.get()
    data = schedule_form(
        time_zone="UTC",
        overrides=[
            {
                "user": user.pk,
                "starts_at_0": "2026-03-03",
                "starts_at_1": "10:00:00",
                "ends_at_0": "2026-03-03",
                "ends_at_1": "09:00:00",
            }
        ],
    )
    data.update(formset("layers", [layer_row(id=layer.pk, schedule=schedule.pk, users=("alice",))], INITIAL_FORMS=1))
    data["name"] = schedule.name
    response = admin_client.post(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk]), data)
    assert response.status_code == 200
    assert "An override must end after it starts." in response.content.decode()
    assert not schedule.overrides.exists()


def test_a_step_must_page_someone(admin_client):
    data = {"name": "Primary", "repeat": 1, "description": "", **formset("steps", [{"order": 0, "delay_minutes": 5}])}
    response = admin_client.post(reverse("admin:alerts_escalationpolicy_add"), data)
    assert response.status_code == 200
    assert "A step must page someone" in response.content.decode()
    assert not EscalationPolicy.objects.exists()
    channel = ChannelFactory(name="ops")
    data.update({"steps-0-channels": [channel.pk]})
    assert admin_client.post(reverse("admin:alerts_escalationpolicy_add"), data).status_code == 302
    assert list(EscalationPolicy.objects.get().steps.get().channels.all()) == [channel]


def test_integration_token_is_shown_once_and_can_be_revoked(admin_client):
    channel = ChannelFactory(name="ops")
    response = admin_client.post(
        reverse("admin:alerts_integration_add"),
        {"name": "prometheus", "kind": "alertmanager", "default_severity": "high", "channels": [channel.pk]},
        follow=True,
    )
    body = response.content.decode()
    token = re.search(r"not shown again: <code>(lki_[\w-]+)</code>", body).group(1)
    integration = Integration.objects.get()
    assert integration_authenticate(token=token) == integration
    assert list(integration.channels.all()) == [channel]
    change = admin_client.get(reverse("admin:alerts_integration_change", args=[integration.pk])).content.decode()
    assert token not in change and integration.token_prefix in change
    admin_client.post(
        reverse("admin:alerts_integration_changelist"), {"action": "revoke", "_selected_action": [integration.pk]}
    )
    assert integration_authenticate(token=token) is None


def test_integration_name_clash_is_a_field_error(admin_client):
    make_integration(name="prometheus")
    response = admin_client.post(
        reverse("admin:alerts_integration_add"), {"name": "prometheus", "kind": "events", "default_severity": "high"}
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Integration.objects.count() == 1


def test_sidebar_lists_the_paging_pages(admin_client):
    body = admin_client.get(reverse("admin:index")).content.decode()
    for url in (
        "/oncall/",
        reverse("admin:alerts_oncallschedule_changelist"),
        reverse("admin:alerts_escalationpolicy_changelist"),
        reverse("admin:alerts_integration_changelist"),
    ):
        assert f'href="{url}"' in body


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        ({"users": ()}, "users", "Pick at least one user to take turns."),
        ({"rotation_every": 0}, "rotation_every", "greater than or equal to 1"),
        ({"rotation_unit": "seconds"}, "rotation_unit", "Select a valid choice"),
    ],
)
def test_bad_layers_are_errors_on_their_field(admin_client, row, field, says):
    UserFactory(username="alice"), UserFactory(username="bob")
    response = admin_client.post(reverse("admin:alerts_oncallschedule_add"), schedule_form(layers=[layer_row(**row)]))
    assert response.status_code == 200
    [layers, _] = response.context["inline_admin_formsets"]
    assert says in layers.formset.forms[0].errors[field][0]
    assert not OnCallSchedule.objects.exists()


def test_a_rotation_in_hours_is_stored_and_shown_in_hours(admin_client):
    UserFactory(username="alice"), UserFactory(username="bob")
    response = admin_client.post(
        reverse("admin:alerts_oncallschedule_add"),
        schedule_form(time_zone="UTC", layers=[layer_row(rotation_every=12, rotation_unit="hours")]),
    )
    assert response.status_code == 302
    schedule = OnCallSchedule.objects.get()
    assert schedule.layers.get().rotation_seconds == 12 * 3600
    page = admin_client.get(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk])).content.decode()
    assert 'name="layers-0-rotation_every" value="12"' in page
    assert re.search(r'<option value="hours" selected>', page)


def test_an_override_is_a_user_picked_by_name(admin_client):
    alice = UserFactory(username="alice")
    UserFactory(username="bob"), UserFactory(username="carol", is_active=False)
    schedule = ScheduleFactory()
    page = admin_client.get(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk])).content.decode()
    # A search picker, not a raw id box with a magnifier, nor a list of every user.
    assert "users/?by=id" in page and ">alice</option>" not in page
    assert "vForeignKeyRawIdAdminField" not in page
    found = admin_client.get(reverse("admin:alerts_oncallschedule_users"), {"by": "id", "term": "AL"}).json()
    assert found["results"] == [{"id": str(alice.pk), "text": "alice"}]
    # A layer's pickers answer names; an inactive user is never offered.
    found = admin_client.get(reverse("admin:alerts_oncallschedule_users")).json()
    assert [r["id"] for r in found["results"]] == ["admin", "alice", "bob"]

    OnCallOverride.objects.create(
        schedule=schedule, user=alice, starts_at=timezone.now(), ends_at=timezone.now() + timedelta(hours=1)
    )
    page = admin_client.get(reverse("admin:alerts_oncallschedule_change", args=[schedule.pk])).content.decode()
    assert f'<option value="{alice.pk}" selected>alice</option>' in page


def test_the_user_search_needs_the_right_to_edit_schedules(client):
    viewer = UserFactory(is_staff=True)
    role_assign(user=viewer, role="viewer")
    client.force_login(viewer)
    assert client.get(reverse("admin:alerts_oncallschedule_users")).status_code == 403
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:alerts_oncallschedule_users"), {"page": "0x"})
    assert response.status_code == 400 and "page:" in response.json()["error"]


def test_the_handoff_preview_reads_the_layer_as_typed_in_the_schedules_time_zone(admin_client):
    url = reverse("admin:alerts_oncalllayer_handoffs")
    query = {
        "time_zone": "Europe/Berlin",
        "starts_at_0": "2026-03-02",
        "starts_at_1": "08:00:00",
        "rotation_every": "12",
        "rotation_unit": "hours",
        "users": "alice,bob",
    }
    page = admin_client.get(url, query).content.decode()
    # Now is Mon 2 Mar 09:00 UTC (10:00 in Berlin): alice took over at 09:00; bob is next at 21:00.
    assert "Mon 2 Mar 2026 21:00 CET</span> → <strong>bob</strong>" in page
    assert "Tue 3 Mar 2026 09:00 CET</span> → <strong>alice</strong>" in page
    bad = admin_client.get(url, {**query, "time_zone": "Mars/Olympus", "users": ""})
    assert bad.status_code == 400
    assert "time_zone:" in bad.content.decode() and "users:" in bad.content.decode()


SCHEDULE_PAGE_QUERIES = 17  # whatever the number of users


def test_the_schedule_page_does_not_grow_with_the_users(admin_client, django_assert_max_num_queries):
    User = get_user_model()
    UserFactory(username="alice")
    schedule = ScheduleFactory()
    LayerFactory(schedule=schedule, users=["alice"])
    url = reverse("admin:alerts_oncallschedule_change", args=[schedule.pk])
    small = admin_client.get(url).content
    User.objects.bulk_create(User(username=f"person-{n:04}") for n in range(2000))
    with django_assert_max_num_queries(SCHEDULE_PAGE_QUERIES):
        large = admin_client.get(url).content
    # Each picker holds its chosen user only: no option per user (the CSRF token varies, not its length).
    assert abs(len(large) - len(small)) < 100 and b"person-" not in large
