"""A span whose end is absurdly far from its start (a clock error, or a hostile SDK): laying it
out at the receive time overflowed Python's dates, and the whole envelope answered 500, its
error events lost with it. Such a span is not kept and is counted (span, invalid); the rest of
the envelope is."""

import pytest

from monitoring.models import EnvelopeOutcome, Span, Transaction
from tests.monitoring.traces.conftest import hex_id, now, send, transaction_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("times", [{"timestamp": 1e20}, {"start_timestamp": -1e12}])
def test_a_span_lasting_past_the_calendar_is_counted_invalid_and_the_rest_kept(client, ingest_key, times):
    trace_id, start = hex_id(32), now()
    root = hex_id(16)
    child = {
        "span_id": hex_id(16),
        "parent_span_id": root,
        "op": "db",
        "description": "SELECT 1",
        "start_timestamp": start,
        "timestamp": start + 0.01,
        **times,
    }
    _, body = transaction_item("GET /x", trace_id=trace_id, start=start, seconds=0.1, span_id=root, children=[child])

    send(client, ingest_key, body)

    assert Transaction.objects.get().name == "GET /x"
    assert list(Span.objects.values_list("op", flat=True)) == ["http.server"]
    outcome = EnvelopeOutcome.objects.get(category="span", reason="invalid")
    assert outcome.quantity == 1


def test_a_transaction_ending_past_the_calendar_keeps_nothing_and_answers_200(client, ingest_key):
    _, body = transaction_item("GET /x", trace_id=hex_id(32), start=now(), seconds=1e20)

    send(client, ingest_key, body)

    assert not Span.objects.exists()
