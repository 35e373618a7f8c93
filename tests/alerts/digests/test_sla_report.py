"""The monthly SLA report per status page and per project, as a team exports it for a customer."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission

from alerts.models import Incident, MaintenanceWindow, PublicIncident
from alerts.status.models import ComponentKind
from monitoring.models import TargetRollup
from monitoring.uptime.services.rollups import latency_bucket
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory
from tests.factories import ProjectFactory, UserFactory
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
NOV = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
OUTAGE = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)  # 3 h down, no maintenance
WORKS = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 2 h of maintenance, down throughout


def down_at(moment):
    return OUTAGE <= moment < OUTAGE + dt.timedelta(hours=3) or WORKS <= moment < WORKS + dt.timedelta(hours=2)


def hour_rollups(target, *, start, hours, every=dt.timedelta(minutes=10), down=down_at):
    """Hour rollups as the rollup task writes them from a probe every `every` (the minute and
    raw layers are gone after a week, which is why a month is read from hours)."""
    per_hour = int(dt.timedelta(hours=1) / every)
    rows = []
    for h in range(hours):
        begin = start + dt.timedelta(hours=h)
        up = sum(not down(begin + i * every) for i in range(per_hour))
        rows.append(
            TargetRollup(
                target_id=target.pk,
                resolution=TargetRollup.Resolution.HOUR,
                bucket_start=begin,
                count=per_hour,
                up_count=up,
                degraded_count=0,
                latency_count=up,
                latency_sum=150 * up,
                latency_min=150 if up else None,
                latency_max=150 if up else None,
                histogram={str(latency_bucket(150)): up} if up else {},
            )
        )
    TargetRollup.objects.bulk_create(rows)


@pytest.fixture
def november(db):
    """A month of probes every 10 minutes (4320), 30 of them failed: 18 in an outage, 12 in maintenance."""
    project = ProjectFactory(name="Shop", slug="shop")
    target = TargetFactory(project=project, name="Checkout API")
    hour_rollups(target, start=NOV, hours=30 * 24)
    MaintenanceWindow.objects.create(name="Database upgrade", target=target, starts_at=WORKS, duration_minutes=120)
    page = StatusPageFactory(slug="acme", title="Acme status")
    ComponentFactory(page=page, target=target, name="Checkout")
    PublicIncident.objects.create(
        page=page,
        name="Checkout unavailable",
        impact="major",
        started_at=OUTAGE,
        resolved_at=OUTAGE + dt.timedelta(hours=3),
    )
    Incident.objects.create(
        project=project,
        title="Checkout API down",
        dedup_key="t:1",
        opened_at=OUTAGE,
        acknowledged_at=OUTAGE + dt.timedelta(minutes=6),
        resolved_at=OUTAGE + dt.timedelta(hours=3),
        status=Incident.Status.RESOLVED,
    )
    return project, page


def rows_of(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_page_report_gives_uptime_with_and_without_maintenance(
    admin_client, november, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = admin_client.get("/admin/alerts/digestsubscription/sla/page/acme/2026-11/")
    assert response.status_code == 200
    page = response.content.decode()
    # 4290 of 4320 probes answered; without the two maintenance hours, 4290 of 4308.
    assert "99.306 %" in page and "99.582 %" in page
    assert "Checkout unavailable" in page
    assert 'href="/admin/alerts/digestsubscription/sla/page/acme/2026-10/"' in page
    assert 'href="/admin/alerts/digestsubscription/sla/page/acme/2026-12/"' in page
    response = admin_client.get("/admin/alerts/digestsubscription/sla/page/acme/2026-11/?format=csv")
    rows = rows_of(response)
    header, checkout, total = rows[0], rows[1], rows[2]
    assert header[:4] == ["component", "probes", "uptime_pct", "uptime_without_maintenance_pct"]
    assert checkout == ["Checkout", "4320", "99.306", "99.582", "300.0", "180.0", "120.0"]
    assert total[0] == "All" and total[1:] == checkout[1:]
    incidents = rows[rows.index(["incident", "kind", "started_at", "resolved_at", "minutes_in_month"]) + 1 :]
    assert incidents == [
        ["Checkout unavailable", "Major", "2026-11-10T10:00:00+00:00", "2026-11-10T13:00:00+00:00", "180.0"]
    ]
    assert response["Content-Disposition"] == 'attachment; filename="sla-acme-2026-11.csv"'


def test_the_project_report_counts_incidents_and_response_times(admin_client, november):
    response = admin_client.get("/admin/alerts/digestsubscription/sla/project/shop/2026-11/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Checkout API down" in page and "MTTA 6 min 0 s · MTTR 3 h 0 min" in page
    rows = rows_of(admin_client.get("/admin/alerts/digestsubscription/sla/project/shop/2026-11/?format=csv"))
    assert rows[1] == ["Checkout API", "4320", "99.306", "99.582", "300.0", "180.0", "120.0"]


def test_a_month_without_probes_says_no_data(admin_client, november):
    rows = rows_of(admin_client.get("/admin/alerts/digestsubscription/sla/page/acme/2026-09/?format=csv"))
    assert rows[1] == ["Checkout", "0", "", "", "0.0", "0.0", "0.0"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/admin/alerts/digestsubscription/sla/page/acme/2026-13/", "month: month must look like 2026-11"),
        ("/admin/alerts/digestsubscription/sla/page/acme/november/", "month: month must look like 2026-11"),
        ("/admin/alerts/digestsubscription/sla/page/acme/2026-11/?format=pdf", "format: must be html or csv"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_client, november, path, message):
    response = admin_client.get(path)
    assert response.status_code == 400
    assert response.content.decode() == message


def test_unknown_pages_and_projects_are_404(admin_client, november):
    assert admin_client.get("/admin/alerts/digestsubscription/sla/page/nope/2026-11/").status_code == 404
    assert admin_client.get("/admin/alerts/digestsubscription/sla/project/nope/2026-11/").status_code == 404


def test_reports_need_login_and_the_view_permission(client, november):
    url = "/admin/alerts/digestsubscription/sla/page/acme/2026-11/"
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = UserFactory(username="carol", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.get("/admin/alerts/digestsubscription/sla/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_statuspage"))
    assert client.get(url).status_code == 200
    assert client.get("/admin/alerts/digestsubscription/sla/project/shop/2026-11/").status_code == 403
    index = client.get("/admin/alerts/digestsubscription/sla/").content.decode()
    assert "/sla/page/acme/" in index and "/sla/project/shop/" not in index


def test_a_derived_component_is_left_out_of_the_uptime_lines(admin_client, november):
    _, page = november
    ComponentFactory(
        page=page,
        target=None,
        name="Storefront LCP",
        kind=ComponentKind.VITAL_P75,
        project=page.components.get().target.project,
        vital="LCP",
        threshold=2500,
    )
    rows = rows_of(admin_client.get("/admin/alerts/digestsubscription/sla/page/acme/2026-11/?format=csv"))
    assert [row[0] for row in rows[1:3]] == ["Checkout", "All"]
