"""Streamed spans (span v2 items, as sentry-python 3 and @sentry/node and @sentry/browser 10+
send traces) become transactions: a segment span gives duration and failure per name."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.errors.transactions import span_points
from monitoring.models import EnvelopeOutcome, MetricPoint
from monitoring.telemetry.selectors.metrics import query
from monitoring.telemetry.services.rollups import rollups_build

pytestmark = pytest.mark.django_db
V2 = "application/vnd.sentry.items.span.v2+json"


def span(name, *, segment, start, seconds, status="ok", parent=None, **extra):
    return {
        "trace_id": uuid.uuid4().hex,
        "span_id": uuid.uuid4().hex[:16],
        **({"parent_span_id": parent} if parent else {}),
        "name": name,
        "status": status,
        "is_segment": segment,
        "kind": "server",
        "start_timestamp": start,
        "end_timestamp": start + seconds,
        "attributes": {"sentry.op": {"type": "string", "value": "http.server"}},
        **extra,
    }


def span_item(*spans, count=None, payload=None):
    body = json.dumps(payload if payload is not None else {"version": 2, "items": list(spans)}).encode()
    header = {"type": "span", "item_count": len(spans) if count is None else count, "content_type": V2}
    return json.dumps(header).encode() + b"\n" + body + b"\n"


def send(client, ingest_key, *items):
    response = client.generic(
        "POST",
        f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
        b"{}\n" + b"".join(items),
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200
    return response


def outcomes():
    return {(o.category, o.reason): o.quantity for o in EnvelopeOutcome.objects.filter(from_client=False)}


def test_segment_spans_become_transactions_and_their_children_are_accepted(client, ingest_key):
    now = time.time() - 5
    checkout = [
        span("POST /checkout", segment=True, start=now, seconds=0.040 + i / 1000, status="error" if i == 0 else "ok")
        for i in range(4)
    ]
    children = [span("db.query", segment=False, start=now, seconds=0.01, parent=s["span_id"]) for s in checkout]
    send(client, ingest_key, span_item(*checkout[:2], *children), span_item(*checkout[2:]))
    rollups_build()

    tags = {"transaction": "POST /checkout"}
    assert query(ingest_key.project, "transaction.duration", tags, agg="count").buckets[0].value == 4
    assert query(ingest_key.project, "transaction.duration", tags, agg="max").buckets[0].value == pytest.approx(43)
    assert query(ingest_key.project, "transaction.failed", tags, agg="avg").buckets[0].value == pytest.approx(0.25)
    # Child spans are not transactions.
    assert not MetricPoint.objects.filter(series__tags__transaction="db.query").exists()
    assert outcomes() == {}


def test_bad_spans_are_counted_one_by_one_as_spans_and_the_good_ones_kept(client, ingest_key):
    now = time.time()
    good = span("GET /ok", segment=True, start=now, seconds=0.1)
    no_name = span("", segment=True, start=now, seconds=0.1)
    backwards = span("GET /back", segment=True, start=now, seconds=-1)
    send(
        client,
        ingest_key,
        span_item(good, no_name, backwards, "not a span"),
        span_item(count=3, payload={"items": "nope"}),
        span_item(count=2, payload=[1, 2]),
    )
    assert MetricPoint.objects.filter(series__tags__transaction="GET /ok").count() == 2
    # Each span is one outcome of category "span", not one per item.
    assert outcomes() == {("span", "invalid"): 3 + 3 + 2}


def test_spans_over_their_budget_are_counted_per_span(client, ingest_key, settings):
    settings.ERRORS_CATEGORY_RATE_LIMITS = "span=0.01/1"
    now = time.time()
    first = span_item(span("GET /a", segment=True, start=now, seconds=0.1))
    second = span_item(*(span("GET /b", segment=i == 0, start=now, seconds=0.1) for i in range(5)))
    response = send(client, ingest_key, first, second)
    assert response["X-Sentry-Rate-Limits"].endswith(":span:key")
    assert outcomes() == {("span", "ratelimit_backoff"): 5}


def test_spans_over_the_projects_series_limit_are_counted_as_spans(client, ingest_key):
    ingest_key.project.telemetry_max_series = 2  # one transaction name makes two series
    ingest_key.project.save()
    now = time.time()
    send(client, ingest_key, span_item(span("GET /a", segment=True, start=now, seconds=0.1)))
    root = span("GET /b", segment=True, start=now, seconds=0.1)
    send(client, ingest_key, span_item(root, span("child", segment=False, start=now, seconds=0.01)))
    assert outcomes() == {("span", "cardinality"): 2}


def test_a_single_span_item_from_before_the_v2_container_is_read_too():
    now = time.time()
    root = {"span_id": "a" * 16, "description": "GET /old", "start_timestamp": now, "timestamp": now + 0.5}
    child = {**root, "span_id": "b" * 16, "parent_span_id": "a" * 16}
    failed = {**root, "status": "internal_error"}
    at, lateness = datetime.now(UTC), timedelta(days=1)
    batch = span_points(root, received_at=at, max_lateness=lateness)
    assert (batch.segments, batch.accepted, [p.value for p in batch.points]) == (1, 1, [pytest.approx(500), 0.0])
    assert span_points(child, received_at=at, max_lateness=lateness).points == []
    assert span_points(failed, received_at=at, max_lateness=lateness).points[1].value == 1.0
