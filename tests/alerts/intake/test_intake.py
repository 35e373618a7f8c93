"""External alerts: Alertmanager v4 webhooks and the events API, each behind its integration's token."""

import copy
import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.intake.services import integration_revoke
from alerts.models import Incident, IncidentAlert, Integration
from tests.alerts.paging.factories import T0, make_integration
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
AM_URL = "/api/v1/alerts/alertmanager"
EVENTS_URL = "/api/v1/alerts/events"


def am_alert(fingerprint="aaaa1111", status="firing", **labels):
    return {
        "status": status,
        "labels": {"alertname": "ApiDown", "severity": "critical", **labels},
        "annotations": {"summary": f"{labels.get('instance', 'api')} is down"},
        "startsAt": "2026-03-02T08:59:00Z",
        "endsAt": "2026-03-02T09:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts, status="firing"):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ApiDown"}',
        "status": status,
        "receiver": "lookout",
        "groupLabels": {"alertname": "ApiDown"},
        "commonLabels": {"alertname": "ApiDown"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local:9093",
        "truncatedAlerts": 0,
        "alerts": list(alerts) or [am_alert()],
    }


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def am(client):
    project = ProjectFactory(slug="shop")
    created = make_integration("alertmanager", project=project)

    def post(payload, token=created.token, **extra):
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        return client.post(
            AM_URL,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"} if token else {},
            **extra,
        )

    post.integration, post.token = created.integration, created.token
    return post


@pytest.fixture
def events(client):
    created = make_integration("events")

    def post(body, token=created.token):
        return client.post(
            EVENTS_URL,
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )

    post.integration, post.token = created.integration, created.token
    return post


def test_firing_group_opens_one_incident(am):
    response = am(am_payload(am_alert("aaaa1111", instance="api-1"), am_alert("bbbb2222", instance="api-2")))
    assert response.status_code == 202, response.content
    [incident] = Incident.objects.all()
    assert incident.source == "external" and incident.integration == am.integration
    assert incident.severity == "critical" and incident.project.slug == "shop"
    assert sorted(incident.alerts.values_list("fingerprint", flat=True)) == ["aaaa1111", "bbbb2222"]
    assert incident.alerts.get(fingerprint="aaaa1111").labels["project"] == "shop"
    assert response.json()["incidents"] == [incident.pk]


def test_repeated_notifications_are_one_incident(am):
    for _ in range(3):
        assert am(am_payload()).status_code == 202
    assert am(am_payload(am_alert("aaaa1111"), am_alert("cccc3333"))).status_code == 202
    [incident] = Incident.objects.all()
    assert incident.alerts.count() == 2


def test_resolved_alerts_resolve_and_the_incident_with_the_last(am):
    am(am_payload(am_alert("aaaa1111"), am_alert("bbbb2222")))
    am(am_payload(am_alert("aaaa1111", status="resolved"), am_alert("bbbb2222")))
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert incident.alerts.get(fingerprint="aaaa1111").status == IncidentAlert.Status.RESOLVED
    assert am(am_payload(am_alert("bbbb2222", status="resolved"), status="resolved")).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda p: p["alerts"][0].__setitem__("labels", ["x"]), "alerts[0].labels", "expected an object"),
        (
            lambda p: p["alerts"].append({**am_alert("dddd"), "labels": "oops"}),
            "alerts[2].labels",
            "expected an object",
        ),
        (lambda p: p.__setitem__("version", "3"), "version", 'expected "4"'),
        (lambda p: p.pop("groupKey"), "groupKey", "this field is required"),
        (lambda p: p.__setitem__("status", "burning"), "status", "expected one of firing, resolved"),
        (lambda p: p["alerts"][0].__setitem__("startsAt", "yesterday"), "alerts[0].startsAt", "RFC 3339"),
        (lambda p: p["alerts"][0].pop("fingerprint"), "alerts[0].fingerprint", "required"),
        (
            lambda p: p["alerts"][0]["labels"].__setitem__("instance", 3),
            "alerts[0].labels.instance",
            "expected a string",
        ),
        (lambda p: p.__setitem__("alerts", []), "alerts", "non-empty list"),
        (lambda p: p.__setitem__("commonLabels", None), "commonLabels", "expected an object"),
    ],
)
def test_malformed_payload_is_400_naming_the_field_and_stores_nothing(am, change, field, reason):
    payload = copy.deepcopy(am_payload(am_alert("aaaa1111"), am_alert("bbbb2222")))
    change(payload)
    response = am(payload)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert reason in response.json()["fields"][field][0]
    assert not Incident.objects.exists()


def test_bad_json_and_oversized_bodies(am, settings):
    response = am(b"{not json")
    assert response.status_code == 400 and "body" in response.json()["fields"]
    assert am(b"[1, 2]").json()["fields"]["body"] == ["expected a JSON object"]
    settings.ALERTS_INTAKE_MAX_BODY_BYTES = 100
    response = am(am_payload())
    assert response.status_code == 413 and "over the limit of 100" in response.json()["error"]


def test_tokens_unknown_revoked_or_for_the_other_endpoint_are_401(am, events, client):
    assert am(am_payload(), token="lki_nope").status_code == 401
    assert am(am_payload(), token=None).status_code == 401
    assert am(am_payload(), token=events.token).status_code == 401
    query = client.post(f"{AM_URL}?token={am.token}", json.dumps(am_payload()), content_type="application/json")
    assert query.status_code == 202
    integration_revoke(integration=am.integration)
    response = am(am_payload())
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_bearer_header_is_401_naming_it_even_with_a_token_elsewhere(am):
    response = am(am_payload(), token=None, HTTP_AUTHORIZATION="Bearer", QUERY_STRING=f"token={am.token}")
    assert response.status_code == 401
    assert response.json()["error"] == "token: expected 'Bearer <token>'."
    assert not Incident.objects.exists()


def test_the_bearer_scheme_is_read_in_any_case_and_another_scheme_is_passed_over(am):
    assert am(am_payload(), token=None, HTTP_AUTHORIZATION=f"bearer {am.token}").status_code == 202
    proxy = "Basic cHJveHk6cGFzcw=="  # a proxy's own credentials in front of Lookout
    assert am(am_payload(), token=None, HTTP_AUTHORIZATION=proxy, QUERY_STRING=f"token={am.token}").status_code == 202


def test_only_the_token_hash_is_stored(am):
    integration = Integration.objects.get(pk=am.integration.pk)
    assert am.token not in (integration.token_hash, integration.token_prefix)
    assert am.token.startswith(integration.token_prefix) and len(integration.token_hash) == 64
    am(am_payload())
    integration.refresh_from_db()
    assert integration.last_used_at == T0


def trigger(dedup_key="disk-db-1", severity="warning", **extra):
    return {
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": "Disk 95% full on db-1",
            "source": "db-1",
            "severity": severity,
            "custom_details": {"mount": "/var", "used": 95},
        },
        **extra,
    }


def test_events_trigger_acknowledge_resolve_by_dedup_key(events):
    response = events(trigger())
    assert response.status_code == 202 and response.json()["dedup_key"] == "disk-db-1"
    assert events(trigger()).status_code == 202  # appends to the open incident
    incident = Incident.objects.get()
    assert incident.severity == "medium" and incident.title == "Disk 95% full on db-1"
    assert incident.alerts.get().labels["detail_mount"] == "/var"
    assert events({"event_action": "acknowledge", "dedup_key": "disk-db-1"}).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert events({"event_action": "resolve", "dedup_key": "disk-db-1"}).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"
    # Resolved already: accepted and nothing changes, as PagerDuty answers a resolve it has no incident for.
    response = events({"event_action": "resolve", "dedup_key": "disk-db-1"})
    assert response.status_code == 202 and response.json()["dedup_key"] == "disk-db-1"
    assert Incident.objects.get().status == "resolved"


def test_events_resolve_ends_the_incidents_alerts_too(events):
    events(trigger())
    alert = IncidentAlert.objects.get()
    assert alert.status == "firing" and alert.ends_at is None
    with time_machine.travel(T0 + dt.timedelta(minutes=7), tick=False):
        assert events({"event_action": "resolve", "dedup_key": "disk-db-1"}).status_code == 202
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.ends_at == T0 + dt.timedelta(minutes=7)
    incident = Incident.objects.get()
    assert incident.status == "resolved" and incident.resolved_at == T0 + dt.timedelta(minutes=7)


def test_events_resolve_of_an_incident_that_does_not_auto_resolve_still_resolves_it(events):
    events(trigger())
    Incident.objects.update(auto_resolve=False)
    assert events({"event_action": "resolve", "dedup_key": "disk-db-1"}).status_code == 202
    assert Incident.objects.get().status == "resolved"
    assert IncidentAlert.objects.get().status == "resolved"


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_events_for_an_unknown_dedup_key_are_accepted_and_change_nothing(events, action):
    events(trigger(dedup_key="other"))
    response = events({"event_action": action, "dedup_key": "never-triggered"})
    assert response.status_code == 202 and response.json()["dedup_key"] == "never-triggered"
    incident = Incident.objects.get()
    assert incident.status == "triggered" and incident.dedup_key.endswith(":other")
    assert IncidentAlert.objects.get().status == "firing"


def test_events_severities_map_to_lookouts():
    from alerts.intake.api.events import SEVERITIES

    assert SEVERITIES == {"critical": "critical", "error": "high", "warning": "medium", "info": "low"}


def test_events_trigger_without_dedup_key_gets_one(events):
    body = trigger()
    body.pop("dedup_key")
    response = events(body)
    assert response.status_code == 202
    assert Incident.objects.get().dedup_key.endswith(response.json()["dedup_key"])


def test_events_routing_key_is_a_token_too(events, client):
    body = trigger(routing_key=events.token)
    response = client.post(EVENTS_URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 202
    assert (
        client.post(
            EVENTS_URL, json.dumps(trigger(routing_key="lki_wrong")), content_type="application/json"
        ).status_code
        == 401
    )


def test_a_routing_key_no_token_could_be_is_401_not_500(client):
    body = json.dumps(trigger(routing_key="lki_\ud800"))  # a lone surrogate, which UTF-8 cannot encode
    response = client.post(EVENTS_URL, body, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"].startswith("token:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_action": "explode", "dedup_key": "x"}, "event_action"),
        ({"event_action": "acknowledge"}, "dedup_key"),
        ({**trigger(), "payload": {"summary": "x", "source": "y", "severity": "urgent"}}, "payload.severity"),
        ({**trigger(), "payload": {"source": "y", "severity": "info"}}, "payload.summary"),
        ({**trigger(), "payload": "text"}, "payload"),
        (trigger(dedup_key="k" * 201), "dedup_key"),
    ],
)
def test_events_bad_input_is_400_naming_the_field(events, body, field):
    response = events(body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Incident.objects.exists()


def test_createintegration_prints_the_token_once(capsys):
    ProjectFactory(slug="shop")
    call_command("createintegration", "prometheus", "--kind", "alertmanager", "--project", "shop", "--json")
    out = json.loads(capsys.readouterr().out)
    integration = Integration.objects.get(name="prometheus")
    assert out["token"].startswith(integration.token_prefix) and out["url"] == AM_URL
    assert integration.project.slug == "shop"
    with pytest.raises(CommandError) as exc:
        call_command("createintegration", "other", "--kind", "alertmanager", "--project", "nope")
    assert exc.value.returncode == 2 and "--project" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("createintegration", "prometheus", "--kind", "events")
    assert exc.value.returncode == 2 and "name" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("createintegration", "x", "--kind", "pagerduty")
    assert exc.value.returncode == 2


def test_intake_is_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/alerts/alertmanager" in schema["paths"] and "/api/v1/alerts/events" in schema["paths"]
    assert "integrationToken" in schema["components"]["securitySchemes"]
