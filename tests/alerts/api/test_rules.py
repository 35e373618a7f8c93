"""Alert rules over the token API: params checked by the rule's kind, as in the rule editor."""

import pytest

from alerts.models import AlertRule
from tests.alerts.api.conftest import queries_for
from tests.alerts.factories import ChannelFactory
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PARAMS = {"metric": "http.latency", "agg": "p95", "window_minutes": 5, "operator": "gt", "threshold": 2000}


def rule(project, **change):
    return {"name": "Checkout slow", "kind": "metric_threshold", "project": project.pk, "params": PARAMS, **change}


def test_a_rule_is_created_read_and_changed(writer, reader):
    project, channel = ProjectFactory(), ChannelFactory()
    made = writer.post("/api/v1/rules", rule(project, channels=[channel.pk], severity="critical"), format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["params"]["threshold"] == 2000 and body["params"]["agg"] == "p95"
    assert body["channels"] == [channel.pk] and body["interval_seconds"] == 60  # the model's default
    changed = writer.patch(f"/api/v1/rules/{body['id']}", {"params": {**PARAMS, "threshold": 3000}}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["params"]["threshold"] == 3000 and changed.json()["channels"] == [channel.pk]
    assert [r["name"] for r in reader.get("/api/v1/rules").json()["results"]] == ["Checkout slow"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"params": {**PARAMS, "threshold": "high"}}, "params.threshold"),
        ({"params": {**PARAMS, "colour": 1}}, "params"),
        ({"params": {**PARAMS, "recovery_threshold": 2500}}, "params.recovery_threshold"),
        ({"kind": "nonsense"}, "kind"),
        ({"interval_seconds": 1}, "interval_seconds"),
        ({"channels": [999999]}, "channels"),
        ({"labels": {"team": 1, "x": {"a": 1}}}, "labels"),
        ({"extra": True}, "extra"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field_and_nothing_is_written(writer, change, field):
    answer = writer.post("/api/v1/rules", rule(ProjectFactory(), **change), format="json")
    assert answer.status_code == 400, answer.content
    named = answer.json()["fields"]
    assert field in named or any(key.startswith(field) for key in named), named
    assert not AlertRule.objects.exists()


def test_a_kind_reading_one_project_needs_the_project(writer):
    answer = writer.post("/api/v1/rules", {**rule(ProjectFactory()), "project": None}, format="json")
    assert answer.status_code == 400 and "project" in answer.json()["fields"]


def test_preview_replays_a_draft_and_a_saved_rule_without_writing(writer):
    project = ProjectFactory()
    draft = writer.post("/api/v1/rules/preview", rule(project), format="json")
    assert draft.status_code == 200, draft.content
    assert draft.json()["supported"] is True and draft.json()["fired"] == 0
    assert draft.json()["evaluations"] == len(draft.json()["points"]) > 0
    assert not AlertRule.objects.exists()
    saved = writer.post("/api/v1/rules", rule(project), format="json").json()
    again = writer.post(f"/api/v1/rules/{saved['id']}/preview")
    assert again.status_code == 200 and again.json()["step_seconds"] >= 60
    bad = writer.post("/api/v1/rules/preview", rule(project, params={"metric": ""}), format="json")
    assert bad.status_code == 400 and any(k.startswith("params") for k in bad.json()["fields"])


def test_read_tokens_and_viewers_do_not_write_rules(reader, read_admin, viewer_writer):
    project = ProjectFactory()
    for client in (reader, read_admin, viewer_writer):
        assert client.post("/api/v1/rules", rule(project), format="json").status_code == 403
        assert client.post("/api/v1/rules/preview", rule(project), format="json").status_code == 403
    assert not AlertRule.objects.exists()


def test_rules_list_in_a_fixed_number_of_queries(reader, writer):
    def add(n):
        for i in range(n):
            body = rule(ProjectFactory(), name=f"r{i}", channels=[ChannelFactory().pk])
            assert writer.post("/api/v1/rules", body, format="json").status_code == 201

    add(2)
    few = queries_for(reader, "/api/v1/rules")
    add(6)
    assert queries_for(reader, "/api/v1/rules") == few


def test_changing_params_is_saved_as_the_editor_saves_it(writer):
    """The rule is evaluated at the next tick after an edit, as after an edit in the admin."""
    saved = writer.post("/api/v1/rules", rule(ProjectFactory()), format="json").json()
    AlertRule.objects.filter(pk=saved["id"]).update(next_evaluation_at="2099-01-01T00:00:00Z")
    writer.patch(f"/api/v1/rules/{saved['id']}", {"params": {**PARAMS, "threshold": 10}}, format="json")
    assert AlertRule.objects.get(pk=saved["id"]).next_evaluation_at.year < 2099
