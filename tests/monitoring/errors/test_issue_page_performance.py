"""The performance view: transactions sent through the envelope endpoint as an SDK sends them,
rolled up as the rollup task does, then read as a person reads the page."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from monitoring.telemetry.services.rollups import rollups_build
from tests.monitoring.errors.factories import store_event
from tests.monitoring.errors.test_ingest_endpoint import auth, envelope, item, post

pytestmark = pytest.mark.django_db
OVERVIEW = "admin:monitoring_performance"
DETAIL = "admin:monitoring_transaction"


def send(client, url, key, name: str, ms: float, *, failed: bool = False, ago=timedelta(minutes=5)):
    end = timezone.now() - ago
    payload = {
        "type": "transaction",
        "event_id": uuid.uuid4().hex,
        "transaction": name,
        "start_timestamp": (end - timedelta(milliseconds=ms)).timestamp(),
        "timestamp": end.timestamp(),
        "contexts": {
            "trace": {
                "trace_id": uuid.uuid4().hex,
                "span_id": uuid.uuid4().hex[:16],
                "op": "http.server",
                "status": "internal_error" if failed else "ok",
            }
        },
    }
    response = post(client, url, envelope(item(payload, "transaction")), headers=auth(key))
    assert response.status_code == 200, response.content


@pytest.fixture
def checkout(client, envelope_url, ingest_key):
    """POST /checkout: 1..40 ms, every tenth failed; GET /health: two, 5 ms; all five minutes ago."""
    for ms in range(1, 41):
        send(client, envelope_url, ingest_key, "POST /checkout", ms, failed=ms % 10 == 0)
    for _ in range(2):
        send(client, envelope_url, ingest_key, "GET /health", 5)
    rollups_build()
    return ingest_key.project


def _charts(html: str) -> dict[str, dict]:
    found = re.findall(r'data-chart="([\w-]+)">.*?data-lookout-chart="([^"]+)"', html, re.S)
    return {name: json.loads(spec.replace("&quot;", '"').replace("&amp;", "&")) for name, spec in found}


def _figure(html: str, name: str) -> str:
    part = html[html.index(f'data-figure="{name}"') :]
    return re.sub(r"\s+", " ", re.search(r'<dd class="text-xl[^>]*>(.*?)</dd>', part, re.S).group(1)).strip()


def test_the_overview_lists_each_transaction_with_throughput_percentiles_and_failures(admin_client, checkout):
    response = admin_client.get(reverse(OVERVIEW), {"project": checkout.pk})
    html = response.content.decode()
    assert response.status_code == 200
    rows = re.findall(r'<tr [^>]*data-transaction="([^"]+)">(.*?)</tr>', html, re.S)
    assert [name for name, _ in rows] == ["POST /checkout", "GET /health"]  # busiest first
    cells = [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1], re.S)]
    name, per_minute, count, p50, p95, failures = cells
    assert count == "40" and per_minute == f"{40 / (24 * 60):.2f} / min"
    assert 19 <= int(p50.split()[0]) <= 22 and 37 <= int(p95.split()[0]) <= 40  # histogram precision
    assert failures == "10 %"
    assert _figure(html, "failure-rate") == "10 %"  # 4 of 42 overall, rounded
    assert 'href="' + reverse(DETAIL) + "?project=" in html


def test_the_overview_charts_hold_the_hour_the_transactions_came_in(admin_client, checkout):
    charts = _charts(admin_client.get(reverse(OVERVIEW), {"project": checkout.pk}).content.decode())
    assert set(charts) == {"duration", "throughput", "failure-rate"}
    counts = [v for _, v in charts["throughput"]["series"][0]["points"] if v]
    assert sum(counts) == 42 and charts["throughput"]["y"]["label"] == "Transactions per hour"
    p95 = [v for _, v in charts["duration"]["series"][0]["points"] if v is not None]
    assert p95 and charts["duration"]["y"]["label"] == "Duration (ms)"
    assert len(charts["duration"]["series"][0]["points"]) == 24


def test_a_transactions_page_shows_its_own_figures_and_charts(admin_client, checkout):
    response = admin_client.get(reverse(DETAIL), {"project": checkout.pk, "name": "GET /health", "window": "7d"})
    html = response.content.decode()
    assert response.status_code == 200
    assert _figure(html, "p50") == "5 ms" and _figure(html, "failure-rate") == "0 %"
    throughput = _charts(html)["throughput"]
    assert sum(v for _, v in throughput["series"][0]["points"] if v) == 2
    assert len(throughput["series"][0]["points"]) == 28  # 7 days in 6-hour steps
    assert html.count('data-trace="') == 2  # its two traces are kept, each linking its waterfall


def test_bad_input_is_answered_with_the_field_it_is_about(admin_client, checkout):
    for params, status, says in (
        ({"window": "1y"}, 400, "window: one of 24h, 7d"),
        ({"project": "999999"}, 400, "project: no such project"),
    ):
        for view in (OVERVIEW, DETAIL):
            response = admin_client.get(reverse(view), {"name": "GET /health", **params})
            assert response.status_code == status and says in response.content.decode()
    response = admin_client.get(reverse(DETAIL), {"project": checkout.pk})
    assert response.status_code == 400 and "name: the transaction&#x27;s name is required" in response.content.decode()
    response = admin_client.get(reverse(DETAIL), {"project": checkout.pk, "name": "GET /nowhere"})
    assert response.status_code == 404 and "name: no transaction" in response.content.decode()


def test_the_overview_query_count_does_not_grow_with_transactions(
    admin_client, client, envelope_url, ingest_key, django_assert_max_num_queries
):
    send(client, envelope_url, ingest_key, "GET /a", 10)
    rollups_build()
    url = reverse(OVERVIEW)
    with django_assert_max_num_queries(30) as few:
        admin_client.get(url, {"project": ingest_key.project_id})
    # Counted now: the next requests reset the connection's query log.
    queries = len(few.captured_queries)
    for n in range(25):
        send(client, envelope_url, ingest_key, f"GET /page/{n}", 10 + n, ago=timedelta(hours=n % 20))
    rollups_build()
    with django_assert_max_num_queries(queries):
        html = admin_client.get(url, {"project": ingest_key.project_id}).content.decode()
    assert html.count("data-transaction=") == 26


def test_the_pages_need_a_staff_user_with_view_permission(client, checkout):
    assert client.get(reverse(OVERVIEW)).status_code == 302  # to the login page
    get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(get_user_model().objects.get(username="viewer"))
    assert client.get(reverse(OVERVIEW)).status_code == 403
    assert client.get(reverse(DETAIL), {"name": "GET /health"}).status_code == 403


def test_an_issue_names_the_trace_and_links_the_transaction_its_event_was_in(admin_client, checkout):
    trace_id = uuid.uuid4().hex
    traced = store_event(
        checkout,
        message="card declined",
        transaction="POST /checkout",
        contexts={"trace": {"trace_id": trace_id, "span_id": uuid.uuid4().hex[:16]}},
    )
    html = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[traced.pk])).content.decode()
    trace = html[html.index('id="event-trace"') :]
    link = reverse(DETAIL) + f"?project={checkout.pk}&amp;name=POST+%2Fcheckout"
    assert f'href="{link}"' in trace.split("</span>")[0] and f"<code>{trace_id}</code>" in trace
    assert f'href="{reverse("traces-trace", args=[trace_id])}"' in trace  # its waterfall

    elsewhere = store_event(checkout, message="cron broke", transaction="nightly-report")
    html = admin_client.get(reverse("admin:monitoring_errorissue_change", args=[elsewhere.pk])).content.decode()
    trace = html[html.index('id="event-trace"') :].split("</span>")[0]
    assert "<code>nightly-report</code>" in trace and "href" not in trace  # no page for it: no dead link
