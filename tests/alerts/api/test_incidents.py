"""Incidents over the token API: what a script working an incident sees and may do."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import Incident, IncidentEvent
from tests.alerts.api.conftest import queries_for
from tests.alerts.incidents.factories import T0, RuleFactory, firing
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def open_incident(*, project=None, severity="high", key="a") -> Incident:
    rule = RuleFactory(project=project)
    signal = firing(rule, dedup_key=f"k-{key}", severity=severity, project_id=project.pk if project else None)
    [incident] = alerts_receive(signals=[signal], now=T0)
    return incident


def test_list_filters_by_status_severity_and_project(reader):
    shop, blog = ProjectFactory(), ProjectFactory()
    critical = open_incident(project=shop, severity="critical", key="1")
    open_incident(project=blog, severity="low", key="2")
    answer = reader.get("/api/v1/incidents", {"severity": "critical", "status": "triggered"})
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [critical.pk]
    by_project = reader.get("/api/v1/incidents", {"project": blog.pk}).json()["results"]
    assert [row["project"] for row in by_project] == [blog.pk]
    assert reader.get("/api/v1/incidents", {"project": 999999}).json()["results"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "burning"}, "status"),
        ({"severity": "huge"}, "severity"),
        ({"project": "x"}, "project"),
        ({"project": "1.5"}, "project"),
        ({"project": "99999999999999999999999"}, "project"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(reader, query, field):
    answer = reader.get("/api/v1/incidents", query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]


def test_cursor_pages_through_every_incident_once_in_a_fixed_number_of_queries(reader):
    made = [open_incident(key=str(n)) for n in range(5)]
    seen, url = [], "/api/v1/incidents?page_size=2"
    with CaptureQueriesContext(connection) as queries:
        first = reader.get(url).json()
    # Around the token and its user's permissions, the page itself is one query.
    assert len([q for q in queries.captured_queries if '"alerts_incident"' in q["sql"]]) == 1
    while url:
        page = reader.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(i.pk for i in made) and len(first["results"]) == 2


def test_list_query_count_does_not_grow_with_the_page(reader):
    for n in range(3):
        open_incident(project=ProjectFactory(), key=f"s{n}")
    few = queries_for(reader, "/api/v1/incidents")
    for n in range(10):
        open_incident(project=ProjectFactory(), key=f"m{n}")
    assert queries_for(reader, "/api/v1/incidents") == few


def test_detail_shows_alerts_and_timeline(reader):
    incident = open_incident()
    body = reader.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["status"] == "triggered"
    assert [a["status"] for a in body["alerts"]] == ["firing"]
    assert body["events"][0]["kind"] == "fired"
    assert reader.get("/api/v1/incidents/999999").status_code == 404


def test_acknowledge_resolve_and_comment_go_on_the_timeline(writer):
    incident = open_incident()
    acked = writer.post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"].startswith("user")
    said = writer.post(f"/api/v1/incidents/{incident.pk}/comment", {"message": "rolling back"}, format="json")
    assert said.status_code == 201 and said.json()["kind"] == "comment"
    done = writer.post(f"/api/v1/incidents/{incident.pk}/resolve", {"message": "rolled back"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds[-3:] == ["acknowledged", "comment", "resolved"]


def test_acknowledging_a_resolved_incident_is_a_400_naming_status(writer):
    incident = open_incident()
    writer.post(f"/api/v1/incidents/{incident.pk}/resolve", {}, format="json")
    answer = writer.post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    assert answer.status_code == 400 and "status" in answer.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [{}, {"message": "  "}, {"message": "ok", "extra": 1}, {"message": ["a"]}],
    ids=["none", "blank", "extra", "list"],
)
def test_a_bad_comment_is_a_400_and_writes_nothing(writer, body):
    incident = open_incident()
    before = IncidentEvent.objects.count()
    answer = writer.post(f"/api/v1/incidents/{incident.pk}/comment", body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["fields"]
    assert IncidentEvent.objects.count() == before


def test_read_tokens_and_viewers_never_write(reader, read_admin, viewer_writer):
    incident = open_incident()
    for client in (reader, read_admin, viewer_writer):
        assert client.post(f"/api/v1/incidents/{incident.pk}/acknowledge").status_code == 403
        assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 200
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_without_a_token_nothing_is_shown(client):
    assert client.get("/api/v1/incidents").status_code in (401, 403)


def test_snoozed_time_reads_back_in_utc(writer):
    incident = open_incident()
    Incident.objects.filter(pk=incident.pk).update(snoozed_until=T0 + dt.timedelta(hours=1))
    assert writer.get(f"/api/v1/incidents/{incident.pk}").json()["snoozed_until"].startswith("2026-03-02T10:00")


def test_a_responder_works_incidents_but_does_not_configure(db):
    """The token acts as its user's role: a responder acknowledges, and is refused a silence."""
    from tests.alerts.api.conftest import client_for
    from tests.factories import make_api_token

    responder = client_for(make_api_token(scope="write", role="responder"))
    incident = open_incident()
    assert responder.post(f"/api/v1/incidents/{incident.pk}/acknowledge").status_code == 200
    refused = responder.post("/api/v1/silences", {}, format="json")
    assert refused.status_code == 403 and "alerts.add_silence" in refused.json()["error"]


def test_snooze_quiets_the_incident_for_the_minutes_given(writer):
    incident = open_incident()
    before = dt.datetime.now(dt.UTC)
    answer = writer.post(f"/api/v1/incidents/{incident.pk}/snooze", {"minutes": 240}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "acknowledged"
    assert answer.json()["events"][-1]["kind"] == "snoozed"
    incident.refresh_from_db()
    assert dt.timedelta(hours=4) <= incident.snoozed_until - before < dt.timedelta(hours=4, seconds=30)
    assert incident.next_notify_at == incident.snoozed_until and incident.next_escalation_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "minutes"),
        ({"minutes": "an hour"}, "minutes"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": 30 * 24 * 60 + 1}, "minutes"),
        ({"minutes": 60, "until": "2030-01-01T00:00:00Z"}, "until"),
    ],
    ids=["missing", "words", "zero", "over 30 days", "unknown field"],
)
def test_a_bad_snooze_is_a_400_naming_the_field_and_changes_nothing(writer, body, field):
    incident = open_incident()
    answer = writer.post(f"/api/v1/incidents/{incident.pk}/snooze", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    incident.refresh_from_db()
    assert incident.status == "triggered" and incident.snoozed_until is None


def test_a_resolved_incident_cannot_be_snoozed(writer):
    incident = open_incident()
    writer.post(f"/api/v1/incidents/{incident.pk}/resolve", {}, format="json")
    answer = writer.post(f"/api/v1/incidents/{incident.pk}/snooze", {"minutes": 60}, format="json")
    assert answer.status_code == 400 and "status" in answer.json()["fields"]


def test_viewers_cannot_snooze(viewer_writer):
    incident = open_incident()
    assert viewer_writer.post(f"/api/v1/incidents/{incident.pk}/snooze", {"minutes": 60}).status_code == 403
    incident.refresh_from_db()
    assert incident.snoozed_until is None
