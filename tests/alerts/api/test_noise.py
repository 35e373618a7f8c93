"""Silences and maintenance windows over the token API: the admin form's rules, one path."""

import pytest

from alerts.models import MaintenanceWindow, Silence
from tests.alerts.api.conftest import queries_for
from tests.factories import ProjectFactory
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db

SILENCE = {
    "matchers": [{"name": "target", "op": "=", "value": "shop"}],
    "starts_at": "2026-03-02T09:00:00Z",
    "ends_at": "2026-03-02T11:00:00Z",
    "comment": "deploy",
}


def test_a_silence_is_created_listed_changed_and_deleted(writer, reader):
    made = writer.post("/api/v1/silences", SILENCE, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["matchers"] == [{"name": "target", "op": "=", "value": "shop"}]
    assert body["created_by"].startswith("user")
    assert [s["id"] for s in reader.get("/api/v1/silences").json()["results"]] == [body["id"]]
    changed = writer.patch(f"/api/v1/silences/{body['id']}", {"comment": "longer deploy"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["comment"] == "longer deploy" and changed.json()["matchers"] == body["matchers"]
    assert writer.delete(f"/api/v1/silences/{body['id']}").status_code == 204
    assert not Silence.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"matchers": []}, "matchers"),
        ({"matchers": [{"name": "x", "op": "=~", "value": "("}]}, "matchers"),
        ({"ends_at": "2026-03-02T08:00:00Z"}, "ends_at"),
        ({"comment": " "}, "comment"),
        ({"ends_at": "tomorrow"}, "ends_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_silence_is_a_400_naming_the_field_and_nothing_is_written(writer, change, field):
    answer = writer.post("/api/v1/silences", {**SILENCE, **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not Silence.objects.exists()


def test_read_tokens_and_viewers_do_not_write_silences(reader, read_admin, viewer_writer):
    for client in (reader, read_admin, viewer_writer):
        assert client.post("/api/v1/silences", SILENCE, format="json").status_code == 403
    assert not Silence.objects.exists()


def window(**change):
    return {
        "name": "Sunday patching",
        "recurrence": "cron",
        "expression": "0 2 * * SUN",
        "starts_at": "2026-03-01T00:00:00Z",
        "duration_minutes": 90,
        "time_zone": "Europe/Berlin",
        "effect": "mute",
        **change,
    }


def test_a_window_names_its_scope_and_reads_it_back(writer):
    target = TargetFactory()
    made = writer.post("/api/v1/maintenance-windows", window(scope="target", target=target.pk), format="json")
    assert made.status_code == 201, made.content
    assert made.json()["scope"] == "target" and made.json()["target"] == target.pk
    moved = writer.patch(f"/api/v1/maintenance-windows/{made.json()['id']}", {"duration_minutes": 30}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["duration_minutes"] == 30 and moved.json()["scope"] == "target"
    assert writer.delete(f"/api/v1/maintenance-windows/{made.json()['id']}").status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "scope"),
        ({"scope": "project"}, "project"),
        ({"scope": "project", "project": 999999}, "project"),
        ({"expression": "every sunday"}, "expression"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"recurrence": "once"}, "expression"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": "long"}, "duration_minutes"),
    ],
)
def test_a_bad_window_is_a_400_naming_the_field_and_nothing_is_written(writer, change, field):
    scoped = {} if field in ("scope", "project") else {"scope": "project", "project": ProjectFactory().pk}
    answer = writer.post("/api/v1/maintenance-windows", window(**scoped, **change), format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not MaintenanceWindow.objects.exists()


def test_windows_list_in_a_fixed_number_of_queries(reader, writer):
    def add(n):
        for i in range(n):
            assert (
                writer.post(
                    "/api/v1/maintenance-windows",
                    window(name=f"w{i}", scope="project", project=ProjectFactory().pk),
                    format="json",
                ).status_code
                == 201
            )

    add(2)
    few = queries_for(reader, "/api/v1/maintenance-windows")
    add(8)
    assert queries_for(reader, "/api/v1/maintenance-windows") == few


def test_read_tokens_do_not_write_windows(read_admin):
    body = window(scope="project", project=ProjectFactory().pk)
    assert read_admin.post("/api/v1/maintenance-windows", body, format="json").status_code == 403
