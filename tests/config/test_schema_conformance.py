"""The OpenAPI schema tells the truth: schemathesis sends generated requests, valid and invalid,
to every operation of the token API, the ingest endpoints and the intake, through the real WSGI
application and database, and every one of its checks must pass (status codes, content types,
response bodies, headers, invalid data refused, valid data accepted, auth enforced).

Bounded in time: a few examples per operation and no per-example deadline (2 shared cores)."""

import json
import re
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from alerts.models import Integration, MaintenanceWindow, Silence
from alerts.status.services import public_incident_create
from config.wsgi import application
from tests.alerts.delivery.factories import ChannelFactory, IncidentFactory
from tests.alerts.paging.factories import LayerFactory, PolicyFactory, make_integration
from tests.alerts.rules.factories import RuleFactory
from tests.alerts.status.factories import ComponentFactory
from tests.factories import ProjectFactory, make_api_token, make_ingest_key
from tests.monitoring.errors.factories import store_event
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory


@pytest.fixture(autouse=True)
def _one_connection_per_test():
    """Requests go through the WSGI application itself, whose request signals close the database
    connection; the test's transaction must outlive each request, as under Django's test client."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db):
    """One project with an ingest key, an admin's write token, and one integration per intake kind,
    so authenticated paths are exercised rather than refused at the door."""
    project = ProjectFactory(slug="shop")
    return {
        "ingestKey": {"X-Lookout-Key": make_ingest_key(project).key.public_key},
        "apiToken": {"Authorization": f"Bearer {make_api_token(scope='write').secret}"},
        "alertmanager": {"Authorization": f"Bearer {make_integration(Integration.Kind.ALERTMANAGER).token}"},
        "events": {"Authorization": f"Bearer {make_integration(Integration.Kind.EVENTS).token}"},
    }


@pytest.fixture
def objects(credentials):
    """One object behind each `{id}` path, by the path's collection name: a schema-valid request
    reads, changes or deletes a real one instead of meeting only 404s."""
    now = timezone.now()
    project = ProjectFactory._meta.model.objects.get(slug="shop")
    issue = store_event(project, message="Checkout failed")
    return {
        "issues": issue.pk,
        "event_id": issue.events.get().event_id.hex,
        "projects": project.pk,
        "targets": TargetFactory().pk,
        "incidents": IncidentFactory().pk,
        "silences": Silence.objects.create(
            matchers=[{"name": "target", "op": "=", "value": "shop"}],
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            comment="deploy",
        ).pk,
        "maintenance-windows": MaintenanceWindow.objects.create(
            name="Sunday patching", project=project, starts_at=now, duration_minutes=60
        ).pk,
        "rules": RuleFactory(project=project).pk,
        # Webhook without a URL, not private: a test send fails here instead of reaching out.
        "channels": ChannelFactory(allow_private=False).pk,
        "schedules": LayerFactory().schedule_id,
        "escalation-policies": PolicyFactory().pk,
        "heartbeats": HeartbeatFactory().pk,
        "status-pages": (page_component := ComponentFactory()).page_id,
        "incident_id": public_incident_create(
            page=page_component.page, name="Slow API", body="Looking.", components=[page_component]
        ).pk,
    }


def _served_schema() -> schemathesis.schemas.BaseSchema:
    """The document /api/schema/ serves, built at collection without a request (a request would
    pass middleware that reads the database); the requests go to the WSGI application itself."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    return loaded


# Every operation the served schema lists: the token API, ingest and the intake.
schema = _served_schema().include(path_regex=r"^/api/")


def _headers_for(case, credentials) -> dict[str, str]:
    schemes = {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}
    if "integrationToken" in schemes:
        return credentials["alertmanager" if case.path.endswith("/alertmanager") else "events"]
    for scheme in ("apiToken", "ingestKey"):
        if scheme in schemes:
            return credentials[scheme]
    return {}


# Rules a JSON Schema cannot state, because they depend on the clock, the database or on other
# fields: a timestamp within the accepted window, a project's series limit, a slug already taken,
# a target kind's own required fields, a window that is a whole number of steps. For these
# operations a schema-valid request may be refused, but only with a 400 naming such a field;
# everywhere else schemathesis' positive_data_acceptance holds as it is.
SEMANTIC_FIELDS = {
    "POST /api/v1/metrics": r"(points\[\d+\]\.)?(timestamp|type|tags(\..+)?)",
    "POST /api/v1/events": r"(events\[\d+\]\.)?(timestamp|action|metadata(\..+)?)",
    "POST /api/v1/vitals": r"(vitals\[\d+\]\.)?(timestamp|url|route|device|connection)",
    "GET /api/v1/metrics/query": r"project|step|window",
    "POST /api/v1/projects": r"name|slug",
    "POST /api/v1/targets": r".+",
    "PUT /api/v1/targets/{id}": r".+",
    "PATCH /api/v1/targets/{id}": r".+",
    "POST /api/v1/alerts/alertmanager": r"alerts\[\d+\]\.fingerprint",
}
# Written through the admin's forms: a silence ends after it starts; a window's scope names the
# field that must be set, its recurrence the expression it needs, its time zone a known one; a
# rule's params are its kind's, its channels and escalation policy rows that exist; a channel's
# config is its notifier's.
SILENCE = r"ends_at"
WINDOW = r"scope|project|target|tag|expression|time_zone|duration_minutes|until"
RULE = r"params(\..*)?|project|channels|escalation_policy"  # "params." names an empty key
CHANNEL = r"config(\..+)?|user"
SCHEDULE = r"name|time_zone|layers(\[\d+\]\..+)?|overrides"
POLICY = r"name|steps(\[\d+\](\..+)?)?"
for method, path, fields in [
    *(("POST", "/api/v1/silences", SILENCE), ("PUT", "/api/v1/silences/{id}", SILENCE)),
    *(("PATCH", "/api/v1/silences/{id}", SILENCE),),
    *(("POST", "/api/v1/maintenance-windows", WINDOW), ("PUT", "/api/v1/maintenance-windows/{id}", WINDOW)),
    *(("PATCH", "/api/v1/maintenance-windows/{id}", WINDOW),),
    *(("POST", "/api/v1/rules", RULE), ("PUT", "/api/v1/rules/{id}", RULE), ("PATCH", "/api/v1/rules/{id}", RULE)),
    *(("POST", "/api/v1/rules/preview", RULE),),
    *(("POST", "/api/v1/channels", CHANNEL), ("PUT", "/api/v1/channels/{id}", CHANNEL)),
    *(("PATCH", "/api/v1/channels/{id}", CHANNEL),),
    # An issue merges only issues that exist, of its project; a snooze ends in the future.
    ("POST", "/api/v1/issues/{id}/merge", r"issues"),
    ("POST", "/api/v1/issues/{id}/ignore", r"until"),
    # A schedule's name is free, its time zone known, its layers' and overrides' users exist; a
    # policy's steps page someone, through channels and a schedule that exist.
    ("POST", "/api/v1/schedules", SCHEDULE),
    *((method, "/api/v1/schedules/{id}", SCHEDULE) for method in ("PUT", "PATCH")),
    ("POST", "/api/v1/escalation-policies", POLICY),
    *((method, "/api/v1/escalation-policies/{id}", POLICY) for method in ("PUT", "PATCH")),
    *(("GET", f"/api/v1/{kind}/{{id}}/oncall", r"at") for kind in ("schedules", "escalation-policies")),
    # A cursor is opaque: only one a list gave is a cursor, whatever string the schema allows.
    *(("GET", f"/api/v1/{path}", r"cursor") for path in ("incidents", "issues", "issues/{id}/events")),
    ("GET", "/api/v1/heartbeats/{id}/pings", r"cursor"),
    # A page's slug and custom domain are free, its logo URL one Django's URL check takes (a
    # "uri" may end in a one-letter top-level domain); an incident's components are its page's.
    ("POST", "/api/v1/status-pages", r"slug|custom_domain|logo_url"),
    *((method, "/api/v1/status-pages/{id}", r"slug|custom_domain|logo_url") for method in ("PUT", "PATCH")),
    ("POST", "/api/v1/status-pages/{id}/incidents", r"components"),
    ("PATCH", "/api/v1/status-pages/{id}/incidents/{incident_id}", r"components"),
    ("GET", "/api/v1/status-pages/{id}/incidents", r"cursor"),
    ("GET", "/api/v1/status-pages", r"cursor"),
]:
    SEMANTIC_FIELDS[f"{method} {path}"] = fields


def refused_only_for_a_rule_the_schema_cannot_state(ctx, response, case):
    """positive_data_acceptance, except that a 400 naming a field of SEMANTIC_FIELDS passes."""
    if response.status_code == 400 and case.meta.generation.mode.is_positive:
        named = list(response.json().get("fields", {}))
        pattern = SEMANTIC_FIELDS[case.operation.label]
        assert named and all(re.fullmatch(pattern, field) for field in named), (
            f"schema-valid request refused for {named}: {response.text}"
        )
        return None
    return positive_data_acceptance(ctx, response, case)


@schema.parametrize()
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_the_one_the_schema_documents(case, credentials, objects):
    if "id" in (case.path_parameters or {}) and case.meta.generation.mode.is_positive:
        case.path_parameters["id"] = objects[case.path.split("/")[3]]
        if "event_id" in case.path_parameters:
            case.path_parameters["event_id"] = objects["event_id"]
        if "incident_id" in case.path_parameters:
            case.path_parameters["incident_id"] = objects["incident_id"]
    semantic = case.operation.label in SEMANTIC_FIELDS
    case.call_and_validate(
        headers=_headers_for(case, credentials),
        excluded_checks=[positive_data_acceptance] if semantic else [],
        additional_checks=[refused_only_for_a_rule_the_schema_cannot_state] if semantic else [],
    )
