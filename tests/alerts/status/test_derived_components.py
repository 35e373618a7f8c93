"""Status page components that watch a derived signal: a project's error events per minute, a
transaction's p95 duration, a Web Vital's p75, each against a threshold over a recent window."""

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.models import Component, MaintenanceWindow
from alerts.status.models import ComponentKind
from monitoring.errors.transactions import transaction_points
from monitoring.telemetry.payloads import parse_body, vital
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from monitoring.uptime.probes.base import UP
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory, probe
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 12, 0, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(seconds=40)  # past the snapshot's 30-second lifetime


def derived(page, name, **fields):
    return Component.objects.create(page=page, name=name, target=None, **fields)


def components(client, page) -> dict[str, dict]:
    response = client.get(f"/status/{page.slug}/api/v2/components.json")
    assert response.status_code == 200, response.content
    return {c["name"]: c for c in response.json()["components"] if not c["group"]}


def send_vitals(project, name: str, values: list[float], route: str = "/cart") -> None:
    """Through the vitals endpoint's own parser and the telemetry ingest service, then rolled up."""
    body = json.dumps([{"name": name, "value": v, "route": route} for v in values]).encode()
    telemetry_ingest(project=project, points=parse_body(body, plural="vitals", item=vital), plural="vitals")
    rollups_build()


def send_transactions(project, name: str, durations_ms: list[float]) -> None:
    """sentry-sdk transaction payloads read into metric points as ingest does, then rolled up."""
    end = NOW.timestamp()
    points = []
    for ms in durations_ms:
        payload = {"transaction": name, "start_timestamp": end - ms / 1000, "timestamp": end}
        points += transaction_points(payload, received_at=NOW, max_lateness=dt.timedelta(days=1))
    telemetry_ingest(project=project, points=points)
    rollups_build()


def test_a_vital_p75_component_goes_degraded_when_p75_crosses_its_threshold(client):
    page = StatusPageFactory()
    project = ProjectFactory()
    lcp = derived(page, "Checkout LCP", kind=ComponentKind.VITAL_P75, project=project, vital="LCP",
                  route="/cart", threshold=2500, outage_threshold=6000)  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        send_vitals(project, "LCP", [1800.0] * 20)
        # Another route's slow loads are not this component's.
        send_vitals(project, "LCP", [9000.0] * 20, route="/search")
        row = components(client, page)["Checkout LCP"]
        assert row["status"] == "operational"
    with time_machine.travel(LATER, tick=False):
        send_vitals(project, "LCP", [3200.0] * 40)
        data = client.get(f"/status/{page.slug}/api/v2/summary.json").json()
    [row] = [c for c in data["components"] if c["id"] == str(lcp.pk)]
    assert row["status"] == "degraded_performance"
    assert data["status"] == {"indicator": "minor", "description": "Degraded Performance"}
    with time_machine.travel(LATER, tick=False):
        html = client.get(f"/status/{page.slug}/").content.decode()
    assert re.search(r"LCP p75 on /cart: 3\d{3} ms \(last 10 min; threshold 2500 ms\)", html), html
    assert "no uptime history for derived signals" in html


def test_a_transaction_p95_component_reads_real_transaction_metrics(client):
    page = StatusPageFactory()
    project = ProjectFactory()
    derived(page, "Checkout", kind=ComponentKind.TRANSACTION_P95, project=project, transaction="POST /checkout",
            threshold=500, outage_threshold=2000)  # fmt: skip
    derived(page, "Health", kind=ComponentKind.TRANSACTION_P95, project=project, transaction="GET /health",
            threshold=500)  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        # p95 of 1…100 ms × 30 is about 2850 ms: over the outage threshold.
        send_transactions(project, "POST /checkout", [30.0 * ms for ms in range(1, 101)])
        send_transactions(project, "GET /health", [5.0] * 50)
        rows = components(client, page)
    assert rows["Checkout"]["status"] == "major_outage"
    assert rows["Health"]["status"] == "operational"
    # Its badges: the status, and no uptime or response time (a derived signal has no probes).
    checkout = rows["Checkout"]["id"]
    with time_machine.travel(NOW, tick=False):
        shield = client.get(f"/status/{page.slug}/badge/{checkout}/status.json").json()
        uptime = client.get(f"/status/{page.slug}/badge/{checkout}/uptime-24h.json").json()
        response = client.get(f"/status/{page.slug}/badge/{checkout}/response.json").json()
    assert (shield["message"], shield["color"]) == ("major outage", "red")
    assert uptime["message"] == response["message"] == "no data"


def test_an_error_rate_component_counts_the_projects_stored_events(client):
    page = StatusPageFactory()
    project, other = ProjectFactory(), ProjectFactory()
    derived(page, "Errors", kind=ComponentKind.ERROR_RATE, project=project, threshold=0.5, window_minutes=10)
    with time_machine.travel(NOW, tick=False):
        for _ in range(4):  # 0.4 a minute over 10 minutes: under the threshold
            store_event(project)
        for _ in range(20):
            store_event(other)
        store_event(project, received_at=NOW - dt.timedelta(minutes=15))  # before the window
        assert components(client, page)["Errors"]["status"] == "operational"
    with time_machine.travel(LATER, tick=False):
        for _ in range(3):
            store_event(project)
        assert components(client, page)["Errors"]["status"] == "degraded_performance"


def test_a_window_over_the_project_puts_its_derived_components_under_maintenance(client):
    page = StatusPageFactory()
    project, other = ProjectFactory(), ProjectFactory()
    errors = derived(page, "Errors", kind=ComponentKind.ERROR_RATE, project=project, threshold=0.1)
    derived(page, "Other errors", kind=ComponentKind.ERROR_RATE, project=other, threshold=0.1)
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            store_event(project)
            store_event(other)
        MaintenanceWindow.objects.create(
            name="Database upgrade", project=project, starts_at=NOW - dt.timedelta(minutes=5), duration_minutes=60
        )
        data = client.get(f"/status/{page.slug}/api/v2/summary.json").json()
    statuses = {c["name"]: c["status"] for c in data["components"]}
    # Errors during the upgrade are expected: the component says maintenance, not degraded.
    assert statuses == {"Errors": "under_maintenance", "Other errors": "degraded_performance"}
    [maintenance] = data["scheduled_maintenances"]
    assert maintenance["status"] == "in_progress"
    assert maintenance["components"] == [{"id": str(errors.pk), "name": "Errors"}]


def test_a_derived_component_without_its_project_is_refused_by_the_model_and_the_database():
    page = StatusPageFactory()
    component = Component(page=page, name="LCP", kind=ComponentKind.VITAL_P75, vital="LCP", threshold=2500)
    with pytest.raises(ValidationError) as error:
        component.full_clean()
    assert set(error.value.message_dict) == {"project"}
    with pytest.raises(IntegrityError), transaction.atomic():
        component.save()
    # Nor may a target component carry a threshold, or a derived one a target.
    with pytest.raises(IntegrityError), transaction.atomic():
        ComponentFactory(page=page, threshold=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ComponentFactory(page=page, kind=ComponentKind.ERROR_RATE, project=ProjectFactory(), threshold=1)


def test_the_admin_shows_the_error_on_the_missing_field_and_clears_another_kinds_fields(admin_client):
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    project = ProjectFactory()

    def post(**row):
        data = {
            "title": page.title,
            "slug": page.slug,
            "exclude_maintenance": "on",
            "groups-TOTAL_FORMS": "0",
            "groups-INITIAL_FORMS": "0",
            "components-TOTAL_FORMS": "1",
            "components-INITIAL_FORMS": "1",
            "components-0-id": str(api.pk),
            "components-0-page": str(page.pk),
            "components-0-name": "API",
            "components-0-position": "0",
            "components-0-window_minutes": "10",
            "components-0-target": str(api.target_id),
            **{f"components-0-{k}": v for k, v in row.items()},
        }
        return admin_client.post(f"/admin/alerts/statuspage/{page.pk}/change/", data)

    response = post(kind="vital_p75", vital="LCP", threshold="2500")
    assert response.status_code == 200
    [errors] = [e for e in response.context["inline_admin_formsets"][1].formset.errors if e]
    assert errors == {"project": ["A component showing the p75 of a web vital needs this."]}
    # Switched to a vital, the row's own fields are inputs and the target's is a dash.
    form = response.context["inline_admin_formsets"][1].formset.forms[0]
    assert 'title="Not used by this kind"' in str(form["target"])
    assert "<select" in str(form["vital"]) and "Not used" not in str(form["project"])

    response = post(kind="vital_p75", vital="LCP", threshold="2500", project=str(project.pk))
    assert response.status_code == 302
    api.refresh_from_db()
    assert (api.kind, api.target_id, api.project_id, api.vital) == ("vital_p75", None, project.pk, "LCP")


def _page_queries(client, page) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/status/{page.slug}/").status_code == 200
    return len(queries)


def test_derived_components_cost_no_queries_per_component(client, django_assert_max_num_queries):
    small, large = StatusPageFactory(), StatusPageFactory()
    project = ProjectFactory()
    for page, copies in ((small, 1), (large, 15)):
        probe(ComponentFactory(page=page, name="API").target, UP)
        for i in range(copies):
            derived(page, f"Errors {i}", kind=ComponentKind.ERROR_RATE, project=project, threshold=1,
                    window_minutes=5 + i)  # fmt: skip
            derived(page, f"Checkout {i}", kind=ComponentKind.TRANSACTION_P95, project=project,
                    transaction=f"POST /checkout/{i}", threshold=500)  # fmt: skip
            derived(page, f"LCP {i}", kind=ComponentKind.VITAL_P75, project=project, vital="LCP", threshold=2500,
                    route=f"/r/{i}")  # fmt: skip
    send_vitals(project, "LCP", [3000.0] * 5, route="/r/3")
    store_event(project)

    assert _page_queries(client, small) == _page_queries(client, large)
    # The target page's pin (12) plus one count of the error events of every project and
    # window, and the watched project's metric series and rollups.
    with django_assert_max_num_queries(15):
        response = client.get(f"/status/{large.slug}/api/v2/components.json")
    statuses = {c["name"]: c["status"] for c in response.json()["components"]}
    assert statuses["LCP 3"] == "degraded_performance"
    assert statuses["LCP 2"] == "operational"
    assert len(statuses) == 46
