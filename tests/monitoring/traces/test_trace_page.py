"""The trace page: a trace's spans as a waterfall, read as a person reads it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from monitoring.projects.roles import VIEWER, role_assign, roles_sync
from tests.monitoring.traces.conftest import hex_id, now, send, span, span_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def trace(client, ingest_key):
    """GET /orders (200 ms) > db.query (10–60 ms) > row fetch (20–30 ms); cache.get (100–110 ms)."""
    trace_id, start = hex_id(32), now()
    root = span("GET /orders", trace_id=trace_id, start=start, seconds=0.2, op="http.server", segment=True)
    query = span("db.query", trace_id=trace_id, start=start + 0.01, seconds=0.05, parent=root["span_id"])
    fetch = span("row fetch", trace_id=trace_id, start=start + 0.02, seconds=0.01, parent=query["span_id"])
    cache = span(
        "cache.get",
        trace_id=trace_id,
        start=start + 0.1,
        seconds=0.01,
        op="cache",
        parent=root["span_id"],
        status="error",
    )
    send(client, ingest_key, span_item(cache, fetch, root, query))  # any order
    return trace_id


def rows(html: str) -> list[tuple[str, int]]:
    return [
        (" ".join(re.sub(r"<[^>]+>", " ", text).split()), int(depth))
        for depth, text in re.findall(r'data-depth="(\d+)"[^>]*>(.*?)</div>', html, re.S)
    ]


def bar(html: str, description: str) -> tuple[float, float]:
    span_id = re.search(rf'data-span="(\w+)"[^>]*title="{re.escape(description)}"', html).group(1)
    style = re.search(rf'data-bar="{span_id}"[^>]*style="([^"]+)"', html, re.S).group(1)
    return float(re.search(r"left:([\d.]+)%", style).group(1)), float(re.search(r"width:([\d.]+)%", style).group(1))


def test_the_waterfall_nests_spans_under_their_parents_on_a_time_axis(admin_client, trace):
    response = admin_client.get(reverse("traces-trace", args=[trace]))
    html = response.content.decode()
    assert response.status_code == 200
    assert rows(html) == [
        ("http.server GET /orders", 0),
        ("db db.query", 1),
        ("db row fetch", 2),
        ("cache cache.get", 1),
    ]
    assert bar(html, "GET /orders") == (0.0, pytest.approx(100.0))
    left, width = bar(html, "db.query")
    assert left == pytest.approx(5.0, abs=0.01) and width == pytest.approx(25.0, abs=0.01)  # 10 ms in, 50 ms long
    ticks = [int(t) for t in re.findall(r'data-tick="(\d+)', html)]
    assert ticks == [0, 50, 100, 150, 200]  # ms
    assert "200.0 ms" in re.search(r'id="trace-duration">([^<]+)<', html).group(1)
    failed = re.search(r'data-bar="\w+"[^>]*title="cache cache.get[^"]*"\s*style="[^"]*#dc2626', html)
    assert failed is not None  # the failed span is drawn red


def test_bad_or_unknown_trace_ids_are_answered_with_the_field(admin_client):
    response = admin_client.get(reverse("traces-trace", args=["not-a-trace"]))
    assert response.status_code == 400 and "trace_id: 32 hexadecimal digits" in response.content.decode()
    response = admin_client.get(reverse("traces-trace", args=[hex_id(32)]))
    assert response.status_code == 404 and "no spans kept for trace" in response.content.decode()


def test_the_page_needs_a_login_and_the_view_permission(client, trace):
    url = reverse("traces-trace", args=[trace])
    assert client.get(url).status_code == 302  # to the login page
    user = get_user_model().objects.create_user("someone", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(url).status_code == 403
    roles_sync()
    role_assign(user=user, role=VIEWER)
    user = get_user_model().objects.get(pk=user.pk)  # permissions are cached on the instance
    client.force_login(user)
    assert client.get(url).status_code == 200


def test_the_query_count_does_not_grow_with_the_spans(
    admin_client, client, ingest_key, trace, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse("traces-trace", args=[trace]))
    queries = len(few.captured_queries)
    trace_id, start = hex_id(32), now()
    root = span("GET /big", trace_id=trace_id, start=start, seconds=1, segment=True)
    children = [
        span(f"q{n}", trace_id=trace_id, start=start + n / 1000, seconds=0.001, parent=root["span_id"])
        for n in range(300)
    ]
    send(client, ingest_key, span_item(root, *children))
    with django_assert_max_num_queries(queries):
        html = admin_client.get(reverse("traces-trace", args=[trace_id])).content.decode()
    assert html.count("data-bar=") == 301


def test_a_transactions_page_lists_its_slowest_traces_linking_their_waterfalls(admin_client, client, ingest_key):
    start = now()
    for ms in (30, 90, 60):
        send(
            client,
            ingest_key,
            span_item(span("GET /orders", trace_id=hex_id(32), start=start, seconds=ms / 1000, segment=True)),
        )
    response = admin_client.get(
        reverse("admin:monitoring_transaction"), {"project": ingest_key.project_id, "name": "GET /orders"}
    )
    html = response.content.decode()
    section = html[html.index('id="slowest-traces"') :]
    durations = re.findall(r'<td class="p-1 font-semibold">([\d.]+) ms</td>', section)
    assert durations == ["90.0", "60.0", "30.0"]  # slowest first
    first = re.search(r'data-trace="(\w+)"', section).group(1)
    assert f'href="{reverse("traces-trace", args=[first])}"' in section


def test_what_a_client_sent_is_shown_as_text_not_markup(admin_client, client, ingest_key):
    trace_id, start = hex_id(32), now()
    sneaky = span('<img src=x onerror="alert(1)">', trace_id=trace_id, start=start, seconds=0.1, op="<b>db</b>")
    send(client, ingest_key, span_item(sneaky))
    html = admin_client.get(reverse("traces-trace", args=[trace_id])).content.decode()
    assert "<img src=x" not in html and "<b>db</b>" not in html
    assert rows(html) == [("&lt;b&gt;db&lt;/b&gt; &lt;img src=x onerror=&quot;alert(1)&quot;&gt;", 0)]
