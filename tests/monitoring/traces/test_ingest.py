"""Transactions and spans sent as the SDKs send them are kept, as the trace page reads them."""

from datetime import timedelta

import pytest

from monitoring.models import EnvelopeOutcome, Span, Transaction
from monitoring.traces.items import MAX_SPANS_PER_ITEM
from tests.monitoring.traces.conftest import hex_id, now, send, span, span_item, transaction_item

pytestmark = pytest.mark.django_db


def test_a_transaction_item_keeps_its_root_and_child_spans(client, ingest_key):
    trace_id, start = hex_id(32), now()
    root = hex_id(16)
    query = {
        "span_id": hex_id(16),
        "parent_span_id": root,
        "op": "db",
        "description": "SELECT * FROM orders",
        "start_timestamp": start + 0.010,
        "timestamp": start + 0.050,
        "data": {"db.system": "postgresql"},
    }
    _, body = transaction_item(
        "GET /orders", trace_id=trace_id, start=start, seconds=0.120, span_id=root, children=[query]
    )
    send(client, ingest_key, body)

    transaction = Transaction.objects.get()
    assert (transaction.name, transaction.trace_id, transaction.op, transaction.status) == (
        "GET /orders",
        trace_id,
        "http.server",
        "ok",
    )
    assert (transaction.release, transaction.environment, transaction.failed) == ("shop@1.0", "prod", False)
    assert transaction.duration == pytest.approx(120, abs=0.01)
    spans = {s.op: s for s in Span.objects.filter(trace_id=trace_id)}
    assert set(spans) == {"http.server", "db"}
    assert spans["db"].parent_span_id == spans["http.server"].span_id == transaction.span_id
    assert spans["db"].description == "SELECT * FROM orders" and spans["db"].data == {"db.system": "postgresql"}
    assert spans["db"].duration == pytest.approx(40, abs=0.01)
    assert spans["db"].start - spans["http.server"].start == pytest.approx(
        timedelta(milliseconds=10), abs=timedelta(microseconds=10)
    )


def test_span_v2_items_keep_every_span_and_their_segments_as_transactions(client, ingest_key):
    trace_id, start = hex_id(32), now()
    root = span(
        "GET /orders",
        trace_id=trace_id,
        start=start,
        seconds=0.2,
        op="http.server",
        segment=True,
        status="error",
        **{"sentry.release": "shop@2", "sentry.environment": "e2e"},
    )
    child = span("db.query", trace_id=trace_id, start=start + 0.01, seconds=0.05, parent=root["span_id"])
    send(client, ingest_key, span_item(root, child))

    transaction = Transaction.objects.get()
    assert (transaction.name, transaction.status, transaction.failed) == ("GET /orders", "error", True)
    assert (transaction.release, transaction.environment) == ("shop@2", "e2e")
    assert sorted(Span.objects.values_list("description", "op", "parent_span_id")) == [
        ("GET /orders", "http.server", ""),
        ("db.query", "db", root["span_id"]),
    ]
    assert Span.objects.get(op="db").data["sentry.op"] == "db"


def test_a_retried_envelope_stores_nothing_twice(client, ingest_key):
    trace_id, start = hex_id(32), now()
    body = span_item(span("GET /", trace_id=trace_id, start=start, seconds=0.1, segment=True))
    send(client, ingest_key, body)
    send(client, ingest_key, body)
    assert (Transaction.objects.count(), Span.objects.count()) == (1, 1)


def test_spans_that_cannot_be_drawn_are_skipped_and_the_rest_kept(client, ingest_key):
    trace_id, start = hex_id(32), now()
    good = span("ok", trace_id=trace_id, start=start, seconds=0.1)
    bad_id = {**span("bad id", trace_id=trace_id, start=start, seconds=0.1), "span_id": "not-hex"}
    backwards = span("backwards", trace_id=trace_id, start=start, seconds=-1)
    no_trace = {**span("no trace", trace_id=trace_id, start=start, seconds=0.1), "trace_id": None}
    send(client, ingest_key, span_item(good, bad_id, backwards, no_trace))
    assert list(Span.objects.values_list("description", flat=True)) == ["ok"]
    assert _dropped() == {("span", "invalid"): 3}


def test_a_segment_span_that_cannot_be_read_is_counted_once(client, ingest_key):
    trace_id, start = hex_id(32), now()
    backwards = span("GET /", trace_id=trace_id, start=start, seconds=-1, segment=True)
    child = {**span("db", trace_id=trace_id, start=start, seconds=0.1), "start_timestamp": "yesterday"}
    send(client, ingest_key, span_item(backwards, child))
    assert Span.objects.count() == 0
    assert _dropped() == {("span", "invalid"): 2}  # the segment by the metrics, the child by the trace


def test_unreadable_child_spans_of_a_transaction_are_counted_not_stored(client, ingest_key):
    trace_id, start = hex_id(32), now()
    good = {"span_id": hex_id(16), "op": "db", "start_timestamp": start, "timestamp": start + 0.01}
    children = [good, {**good, "span_id": "zz"}, {**good, "timestamp": None}, "not a span"]
    _, body = transaction_item("GET /orders", trace_id=trace_id, start=start, seconds=0.1, children=children)
    send(client, ingest_key, body)
    assert Span.objects.filter(op="db").count() == 1
    assert _dropped() == {("span", "invalid"): 3}

    # A root that cannot be read takes its children with it: none can be drawn.
    _, body = transaction_item(
        "GET /lost", trace_id="no", start=start, seconds=0.1, children=[good, {**good, "span_id": hex_id(16)}]
    )
    send(client, ingest_key, body)
    assert _dropped() == {("span", "invalid"): 5}


def _dropped() -> dict[tuple[str, str], int]:
    rows = EnvelopeOutcome.objects.filter(from_client=False).values_list("category", "reason", "quantity")
    return {(category, reason): quantity for category, reason, quantity in rows}


def test_a_clock_far_off_moves_the_span_to_the_receive_time_keeping_its_length(client, ingest_key):
    trace_id = hex_id(32)
    send(client, ingest_key, span_item(span("GET /", trace_id=trace_id, start=0.0, seconds=0.25, segment=True)))
    kept = Span.objects.get()
    assert kept.start.year >= 2026 and kept.duration == pytest.approx(250)  # not a partition of 1970


def test_secrets_in_descriptions_and_data_are_scrubbed(client, ingest_key):
    trace_id, start = hex_id(32), now()
    leaky = span(
        "connect postgres://app:s3cr3tpw@db/app",
        trace_id=trace_id,
        start=start,
        seconds=0.1,
        **{"http.url": "https://shop.example/?token=abc.def.ghi", "password": "hunter2"},
    )
    send(client, ingest_key, span_item(leaky))
    stored = str(Span.objects.values_list("description", "data").get())
    assert "s3cr3tpw" not in stored and "abc.def.ghi" not in stored and "hunter2" not in stored
    assert "shop.example" in stored  # the rest of the text stays


def test_a_transaction_item_keeps_at_most_its_bound_of_spans(client, ingest_key):
    trace_id, start = hex_id(32), now()
    children = [
        {"span_id": hex_id(16), "op": "db", "start_timestamp": start, "timestamp": start + 0.001}
        for _ in range(MAX_SPANS_PER_ITEM + 5)
    ]
    _, body = transaction_item("GET /big", trace_id=trace_id, start=start, seconds=0.1, children=children)
    send(client, ingest_key, body)
    assert Span.objects.filter(op="db").count() == MAX_SPANS_PER_ITEM
    assert _dropped() == {("span", "too_large"): 5}  # dropped, but never without a word


def test_the_python_sdk_2_transaction_is_kept_with_its_spans(live_server, ingest_key):
    """sentry-sdk 2.x (the portal's own) sends transaction items; the real client, unchanged."""
    import sentry_sdk

    host = live_server.url.split("://", 1)[1]
    sdk = sentry_sdk.Client(
        dsn=f"http://{ingest_key.public_key}@{host}/{ingest_key.project_id}",
        traces_sample_rate=1.0,
        default_integrations=False,
    )
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(sdk)
        with sentry_sdk.start_transaction(name="POST /pay", op="http.server") as transaction:
            with sentry_sdk.start_span(op="db", name="INSERT payment"):
                with sentry_sdk.start_span(op="http.client", name="POST psp"):
                    pass
    sdk.close(timeout=5)
    kept = Transaction.objects.get(name="POST /pay")
    assert kept.trace_id == transaction.trace_id
    tree = {s.op: s for s in Span.objects.filter(trace_id=kept.trace_id)}
    assert tree["db"].parent_span_id == tree["http.server"].span_id
    assert tree["http.client"].parent_span_id == tree["db"].span_id
