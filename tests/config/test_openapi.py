import json
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_builds_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    text = out.read_text()
    assert "/api/v1/projects" in text
    assert "apiToken" in text and "ingestKey" in text


def test_api_docs_are_served_from_the_portal_itself(admin_client):
    html = admin_client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet comes from the portal: no CDN, nothing off-site. (Not a
    # search for "cdn" in the page: a random CSRF token can spell it.)
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert addresses and not [a for a in addresses if a.startswith(("http:", "https:", "//"))]


# --- The defects schemathesis and a hand attack found: each now fails the old way, with a 400
# naming the field that was sent, and the schema says what the API answers.


@pytest.fixture
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def api(client):
    from tests.factories import make_api_token

    secret = make_api_token(scope="write").secret
    return lambda: {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def ingest(client):
    from tests.factories import ProjectFactory, make_ingest_key

    project = ProjectFactory(slug="shop", telemetry_max_tag_values=1)

    def send(path, body):
        key = make_ingest_key(project).key.public_key if not hasattr(send, "key") else send.key
        send.key = key
        return client.post(path, json.dumps(body), content_type="application/json", HTTP_X_LOOKOUT_KEY=key)

    return send


def test_every_operation_documents_its_refusals(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"400", "503"} <= codes, f"{method} {path}: {codes}"
            if operation.get("security"):
                assert {"401", "403"} <= codes, f"{method} {path}: {codes}"
            if "{" in path:
                assert "404" in codes, f"{method} {path}: {codes}"


def test_the_projects_schema_allows_the_environments_it_answers_with(schema, client, api):
    project = schema["components"]["schemas"]["Project"]
    assert project["properties"]["environments"]["type"] == "array"
    created = client.post(
        "/api/v1/projects", {"name": "Shop", "environments": ["production", "staging"]}, "application/json", **api()
    )
    assert created.status_code == 201, created.content
    assert created.json()["environments"] == ["production", "staging"]


@pytest.mark.parametrize("offset", ["null", "-1", "1.5", ""])
def test_offset_that_is_not_a_whole_number_is_refused(client, api, offset):
    response = client.get(f"/api/v1/projects?offset={offset}", **api())
    assert response.status_code == 400
    assert "offset" in response.json()["fields"]


def test_the_ingest_examples_are_accepted_and_the_answer_example_is_an_answer(schema, ingest):
    for path in ("/api/v1/metrics", "/api/v1/events", "/api/v1/vitals"):
        operation = schema["paths"][path]["post"]
        for example in operation["requestBody"]["content"]["application/json"]["examples"].values():
            response = ingest(path, example["value"])
            assert response.status_code == 200, (path, response.content)
        answers = operation["responses"]["200"]["content"]["application/json"]["examples"]
        assert [example["value"] for example in answers.values()] == [{"stored": 1}]


def test_an_unknown_event_field_is_refused_naming_it(ingest):
    response = ingest("/api/v1/events", {"action": "checkout", "url": "https://shop.example/cart"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["url"]
    batch = ingest("/api/v1/metrics", {"points": [{"name": "a", "value": 1, "tgas": {}}], "extra": 1})
    assert batch.status_code == 400 and list(batch.json()["fields"]) == ["extra"]


def test_a_cardinality_refusal_names_the_metadata_that_was_sent(ingest):
    assert ingest("/api/v1/events", {"action": "checkout", "metadata": {"session_id": "a"}}).status_code == 200
    response = ingest("/api/v1/events", [{"action": "checkout", "metadata": {"session_id": "b"}}])
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["events[0].metadata.session_id"]


def test_an_unknown_query_parameter_is_refused_naming_it(client, api):
    from tests.factories import ProjectFactory

    ProjectFactory(slug="shop")
    grouped = client.get("/api/v1/metrics/query?project=shop&name=a&group_by=route", **api())
    assert grouped.status_code == 400
    assert list(grouped.json()["fields"]) == ["group_by"]
    assert client.get("/api/v1/targets?projcet=1", **api()).json()["fields"].keys() == {"projcet"}


def test_unknown_body_fields_are_refused_by_the_token_api_and_the_events_intake(client, api):
    from alerts.models import Integration
    from tests.alerts.paging.factories import make_integration

    created = client.post("/api/v1/projects", {"name": "Shop", "envs": ["x"]}, "application/json", **api())
    assert created.status_code == 400 and list(created.json()["fields"]) == ["envs"]
    token = make_integration(Integration.Kind.EVENTS).token
    event = {"event_action": "trigger", "payload": {"summary": "s", "source": "db", "severity": "info", "url": "u"}}
    refused = client.post(
        "/api/v1/alerts/events", json.dumps(event), "application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["payload.url"]


def test_alertmanager_fields_lookout_does_not_read_are_ignored_as_documented(client, schema):
    from alerts.intake.api.alertmanager import EXAMPLE
    from alerts.models import Integration
    from tests.alerts.paging.factories import make_integration

    assert "ignored" in schema["paths"]["/api/v1/alerts/alertmanager"]["post"]["description"]
    token = make_integration(Integration.Kind.ALERTMANAGER).token
    newer = {**EXAMPLE, "truncatedAlerts": 0}
    response = client.post(
        "/api/v1/alerts/alertmanager", json.dumps(newer), "application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 202
