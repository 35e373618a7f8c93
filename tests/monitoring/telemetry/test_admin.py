"""The admin's telemetry pages: Web Vitals panel, metric explorer, series and refusals lists."""

import math
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.models import IngestRejection, MetricSeries
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.factories import ProjectFactory

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def store(project, points):
    telemetry_ingest(project=project, points=points)
    while rollups_build():
        pass


def vital(name, value, ago, route="/"):
    return PointIn(name=f"vitals.{name}", value=value, timestamp=NOW - ago, tags={"route": route})


def p75(values):
    """percentile_cont(0.75): interpolated between the two values around rank 0.75·(n-1)."""
    ordered = sorted(values)
    rank = 0.75 * (len(ordered) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (rank - below) * (ordered[above] - ordered[below])


@pytest.fixture
def vitals(project):
    recent = [1000, 1200, 2000, 3000, 5000]  # last hours: p75 3000, over the 2.5 s budget
    older = [800] * 20  # two weeks ago: good
    with time_machine.travel(NOW, tick=False):
        store(
            project,
            [
                *(vital("LCP", v, timedelta(hours=2), route="/cart") for v in recent),
                *(vital("LCP", v, timedelta(days=14)) for v in older),
                vital("CLS", 0.02, timedelta(hours=1)),
                PointIn(name="actions", value=2500, timestamp=NOW - timedelta(hours=1), tags={"action": "checkout"}),
                PointIn(name="actions", value=40, timestamp=NOW - timedelta(hours=1), tags={"action": "search"}),
            ],
        )
    return recent, older


@time_machine.travel(NOW, tick=False)
def test_the_panel_shows_p75_per_window_against_budgets_and_ratings(
    admin_client, project, vitals, django_assert_max_num_queries
):
    recent, older = vitals
    # 12 before day rollups, plus the cursor saying where days end (read by the panel and the actions).
    with django_assert_max_num_queries(13):
        response = admin_client.get("/admin/monitoring/metricseries/web-vitals/", {"project": project.pk})

    assert response.status_code == 200
    rows = {row.name: row for row in response.context["panel"].vitals}
    lcp = rows["LCP"]
    assert lcp.p75["24 h"] == pytest.approx(p75(recent), rel=0.01)
    assert lcp.p75["7 d"] == pytest.approx(p75(recent), rel=0.01)
    assert lcp.p75["28 d"] == pytest.approx(p75(recent + older), rel=0.01)
    assert lcp.within_budget("24 h") is False and lcp.within_budget("28 d") is True
    # Google: good <= 2.5 s < needs improvement <= 4 s < poor
    assert (lcp.good, lcp.needs_improvement, lcp.poor) == pytest.approx((23 / 25, 1 / 25, 1 / 25))
    assert rows["CLS"].p75["24 h"] == pytest.approx(0.02, rel=0.01)
    assert rows["FCP"].p75["24 h"] is None  # budgeted, no data yet

    routes = {r.route: r for r in response.context["panel"].routes}
    assert set(routes) == {"/", "/cart"}
    assert routes["/cart"].p75["LCP"] == pytest.approx(p75(recent), rel=0.01)
    assert [a.action for a in response.context["actions"]] == ["checkout", "search"]
    assert b"over budget" in response.content


def test_an_unknown_project_is_400(admin_client, project):
    response = admin_client.get("/admin/monitoring/metricseries/web-vitals/", {"project": "999999"})
    assert response.status_code == 400
    assert b"project: no such project" in response.content


def test_the_panel_needs_a_staff_login(client, project):
    response = client.get("/admin/monitoring/metricseries/web-vitals/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@time_machine.travel(NOW, tick=False)
def test_the_explorer_draws_the_chosen_aggregation(admin_client, project, vitals):
    response = admin_client.get(
        "/admin/monitoring/metricseries/explorer/",
        {"project": project.pk, "name": "vitals.LCP", "agg": "max", "tags": "route:/cart", "window": "24h"},
    )

    assert response.status_code == 200
    result = response.context["result"]
    assert result.series == 1
    assert max(b.value for b in result.buckets if b.value is not None) == 5000
    chart = response.context["chart"]
    assert max(v for _, v in chart["series"][0]["points"] if v is not None) == 5000
    assert chart["y"]["label"] == "max" and b"data-lookout-chart" in response.content


@time_machine.travel(NOW, tick=False)
def test_the_explorer_says_why_its_chart_is_empty(admin_client, project, vitals):
    response = admin_client.get(
        "/admin/monitoring/metricseries/explorer/",
        {"project": project.pk, "name": "vitals.LCP", "agg": "max", "tags": "route:/nowhere", "window": "24h"},
    )

    assert response.status_code == 200
    assert b"data-lookout-chart=" not in response.content
    assert b"matches these tags" in response.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agg": "median"}, b"agg"),
        ({"window": "3y"}, b"window"),
        ({"tags": "nocolon"}, b"write tags as key:value"),
        ({"name": ""}, b"name"),
    ],
)
def test_bad_explorer_input_is_400_naming_the_field(admin_client, project, params, field):
    response = admin_client.get(
        "/admin/monitoring/metricseries/explorer/",
        {"project": project.pk, "name": "m", "agg": "p95", "window": "24h", **params},
    )
    assert response.status_code == 400
    assert field in response.content


def test_the_series_list_stays_cheap_at_ten_thousand_rows(admin_client, django_assert_max_num_queries):
    projects = [ProjectFactory() for _ in range(5)]
    MetricSeries.objects.bulk_create(
        MetricSeries(project=projects[i % 5], name=f"m{i}", tags={"i": str(i)}, tags_hash=f"{i:064d}")
        for i in range(10_000)
    )
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/monitoring/metricseries/")
    assert response.status_code == 200
    assert b"Web Vitals" in response.content and b"Metric explorer" in response.content


def test_refusals_are_listed_per_project(admin_client, project):
    IngestRejection.objects.create(project=project, day=NOW.date(), reason="throttled", count=7)
    response = admin_client.get("/admin/monitoring/ingestrejection/")
    assert response.status_code == 200
    assert b"rate limited" in response.content


@time_machine.travel(NOW, tick=False)
def test_the_explorer_suggests_known_metric_names_and_tag_values(admin_client, project, vitals):
    response = admin_client.get("/admin/monitoring/metricseries/explorer/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="vitals.LCP">' in page and '<option value="actions">' in page
    assert '<option value="route:/cart">' in page and '<option value="action:checkout">' in page
    assert f'<option value="{project.pk}" selected>' in page  # opens on the project with data
