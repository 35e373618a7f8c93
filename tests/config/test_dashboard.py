"""The admin index as a team opens it first: what is on fire, what is down, who is on call."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Incident
from monitoring.models import Status
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = pytest.mark.django_db


def populate(copies: int) -> None:
    """`copies` projects, each with a down and an up target, a late heartbeat, an open
    incident, a new error issue, transactions and vitals."""
    now = timezone.now()
    first = Incident.objects.count()
    for n in range(first, first + copies):
        project = ProjectFactory(name=f"Shop {n}")
        TargetFactory(
            project=project,
            name=f"Checkout {n}",
            status=Status.DOWN,
            status_changed_at=now - timedelta(minutes=7),
            last_error="connection refused to 127.0.0.1:8199",
        )
        TargetFactory(project=project, name=f"Blog {n}", status=Status.UP)
        HeartbeatFactory(target__project=project, target__name=f"Nightly job {n}", expected_at=now - timedelta(hours=1))
        Incident.objects.create(
            project=project, title=f"Checkout {n} down", severity="critical", dedup_key=f"k{n}", opened_at=now
        )
        store_event(project, message=f"KeyError {n}")
        telemetry_ingest(
            project=project,
            points=[
                *(
                    PointIn(name="transaction.duration", value=v, timestamp=now - timedelta(minutes=2), tags={})
                    for v in (100, 200, 300, 2000)
                ),
                PointIn(name="transaction.failed", value=1, timestamp=now - timedelta(minutes=2), tags={}),
                PointIn(name="transaction.failed", value=0, timestamp=now - timedelta(minutes=2), tags={}),
                *(PointIn("vitals.LCP", v, now - timedelta(minutes=2), {}) for v in (1000, 5000)),
            ],
        )
    while rollups_build():
        pass


def test_the_dashboard_shows_incidents_failing_targets_late_heartbeats_and_new_errors(admin_client):
    populate(1)

    response = admin_client.get("/admin/")

    assert response.status_code == 200
    page = response.content.decode()
    tile = page[page.index('id="incidents-tile"') : page.index('id="targets-tile"')]
    assert "Checkout 0 down" in tile and "Acknowledge" in tile and "1 critical" in tile
    tile = page[page.index('id="targets-tile"') : page.index('id="issues-tile"')]
    assert "1 down" in tile and "1 up" in tile and "connection refused to 127.0.0.1:8199" in tile and "since" in tile
    assert "Nightly job 0" in tile
    tile = page[page.index('id="issues-tile"') : page.index('id="oncall-tile"')]
    assert "KeyError 0" in tile and "new" in tile and "data-lookout-chart" in tile  # its sparkline
    assert "No on-call schedule" in page and "No backup plans yet" in page
    (row,) = [t for _, t in response.context["project_rows"]]
    # Interpolated as percentile_cont: rank 0.95 × 3 = 2.85, between 300 and 2000.
    assert row.p95_ms == pytest.approx(300 + 0.85 * 1700, rel=0.02) and row.failure_rate == 0.5
    assert [(v.name, v.rating) for v in row.vitals] == [("LCP", "poor")]


def test_the_dashboards_query_count_does_not_grow_with_the_data(admin_client, django_assert_max_num_queries):
    populate(1)
    admin_client.get("/admin/")  # sessions, content types: warm what is cached per process
    with CaptureQueriesContext(connection) as small:
        admin_client.get("/admin/")
    populate(4)
    with django_assert_max_num_queries(len(small)):
        response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert len(response.context["incidents"]) == 5
