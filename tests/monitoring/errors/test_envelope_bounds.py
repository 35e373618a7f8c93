"""An envelope carries what Sentry's protocol allows, and the rate limit counts what it carries.

The attack these stop: one envelope of 40,000 events held a worker past gunicorn's
timeout (a 500 after 30 s, with 29,345 of them stored), and cost its key one token.
"""

import json
import time
import uuid

import pytest

from monitoring.errors.envelope import MAX_ITEMS, MAX_OF_TYPE, MAX_SESSIONS, MAX_SPANS
from monitoring.models import ErrorEvent, ErrorUserReport, ReleaseHealth
from tests.monitoring.errors.test_ingest_endpoint import auth, envelope, event, item, post

pytestmark = pytest.mark.django_db


def session(n=0):
    return {"sid": uuid.uuid4().hex, "did": f"u{n}", "status": "exited", "init": True, "attrs": {"release": "1.0"}}


def transaction():
    now = time.time()
    return {"type": "transaction", "transaction": "GET /", "start_timestamp": now - 1, "timestamp": now}


def spans(count):
    now = time.time()
    return {
        "version": 2,
        "items": [
            {"span_id": f"{n:016x}", "name": "GET /", "is_segment": True, "start_timestamp": now, "end_timestamp": now}
            for n in range(count)
        ],
    }


def refused(response, reason):
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == reason
    assert response["X-Sentry-Error"] == reason


def test_two_events_in_one_envelope_are_refused_whole(client, envelope_url, ingest_key):
    body = envelope(item(event("one")), item(event("two")))
    refused(
        post(client, envelope_url, body, headers=auth(ingest_key)),
        "envelope holds 2 event items (event, transaction, security, feedback); at most 1 is allowed",
    )
    assert not ErrorEvent.objects.exists()


def test_an_event_and_a_transaction_are_two_events(client, envelope_url, ingest_key):
    response = post(
        client, envelope_url, envelope(item(event()), item(transaction(), "transaction")), headers=auth(ingest_key)
    )
    assert response.status_code == 400
    assert "2 event items" in response.json()["detail"]
    assert not ErrorEvent.objects.exists()


def test_an_event_with_its_sessions_attachments_and_user_report_is_taken(client, envelope_url, ingest_key):
    sent = event("boom")
    report = {"event_id": sent["event_id"], "name": "Ann", "email": "a@example.com", "comments": "broke"}
    body = envelope(
        item(sent),
        *(item(session(n), "session") for n in range(MAX_SESSIONS)),
        item(b"log line", "attachment"),
        item(report, "user_report"),
        item({"discarded_events": []}, "client_report"),
    )
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 200
    assert ErrorEvent.objects.count() == 1 and ErrorUserReport.objects.count() == 1
    assert ReleaseHealth.objects.get().sessions == MAX_SESSIONS


def test_sessions_past_the_bound_are_refused_as_updates_or_as_aggregates(client, envelope_url, ingest_key):
    updates = envelope(*(item(session(n), "session") for n in range(MAX_SESSIONS + 1)))
    refused(
        post(client, envelope_url, updates, headers=auth(ingest_key)),
        f"envelope holds {MAX_SESSIONS + 1} sessions; at most {MAX_SESSIONS} are allowed",
    )
    started = "2026-12-07T06:00:00Z"
    aggregates = {"attrs": {"release": "1.0"}, "aggregates": [{"started": started, "exited": 1}] * (MAX_SESSIONS + 1)}
    refused(
        post(client, envelope_url, envelope(item(aggregates, "sessions")), headers=auth(ingest_key)),
        f"envelope holds {MAX_SESSIONS + 1} sessions; at most {MAX_SESSIONS} are allowed",
    )
    assert not ReleaseHealth.objects.exists()


def test_spans_are_counted_from_the_payload_not_the_header(client, envelope_url, ingest_key):
    payload = json.dumps(spans(MAX_SPANS + 1)).encode()
    header = {"type": "span", "length": len(payload), "item_count": 1}
    body = envelope(json.dumps(header).encode() + b"\n" + payload + b"\n")
    refused(
        post(client, envelope_url, body, headers=auth(ingest_key)),
        f"envelope holds {MAX_SPANS + 1} spans; at most {MAX_SPANS} are allowed",
    )


def test_more_items_than_the_bound_are_refused_without_reading_the_rest(client, envelope_url, ingest_key):
    body = envelope(*(item(b"x", "attachment") for _ in range(MAX_ITEMS + 1)))
    refused(post(client, envelope_url, body, headers=auth(ingest_key)), f"envelope holds more than {MAX_ITEMS} items")


def test_the_forty_thousand_event_envelope_is_refused_at_once(client, envelope_url, ingest_key):
    body = envelope(*(item(event(f"e{n}")) for n in range(40_000)))
    assert len(body) > 4_000_000
    started = time.perf_counter()
    response = post(client, envelope_url, body, headers=auth(ingest_key))
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    assert response.json()["detail"] == f"envelope holds more than {MAX_ITEMS} items"
    assert not ErrorEvent.objects.exists()
    assert elapsed < 3, elapsed  # a tenth of gunicorn's 30 s timeout, on a loaded machine


def test_the_rate_limit_counts_items_not_envelopes(client, envelope_url, ingest_key, settings):
    settings.ERRORS_RATE_PER_SECOND, settings.ERRORS_RATE_BURST = 0.01, 10
    # One event and nine sessions: ten things, the whole burst, in one request.
    full = envelope(item(event("first")), *(item(session(n), "session") for n in range(9)))
    assert post(client, envelope_url, full, headers=auth(ingest_key)).status_code == 200
    limited = post(client, envelope_url, envelope(item(event("second"))), headers=auth(ingest_key))
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert [e.payload["message"] for e in ErrorEvent.objects.all()] == ["first"]


def test_an_envelope_costing_more_than_is_left_is_refused_whole(client, envelope_url, ingest_key, settings):
    settings.ERRORS_RATE_PER_SECOND, settings.ERRORS_RATE_BURST = 0.01, 5
    body = envelope(item(event("big")), *(item(session(n), "session") for n in range(9)))
    response = post(client, envelope_url, body, headers=auth(ingest_key))
    assert response.status_code == 429
    assert response["X-Sentry-Rate-Limits"] == f"{response['Retry-After']}::key"
    assert not ErrorEvent.objects.exists() and not ReleaseHealth.objects.exists()


def test_check_ins_and_user_reports_past_their_bound_are_refused(client, envelope_url, ingest_key):
    check_in = {"monitor_slug": "nightly", "status": "ok"}
    body = envelope(*(item(check_in, "check_in") for _ in range(MAX_OF_TYPE["check_in"] + 1)))
    refused(
        post(client, envelope_url, body, headers=auth(ingest_key)),
        f"envelope holds {MAX_OF_TYPE['check_in'] + 1} check_in items; at most {MAX_OF_TYPE['check_in']} are allowed",
    )
    report = {"event_id": uuid.uuid4().hex, "comments": "broke"}
    body = envelope(*(item(report, "user_report") for _ in range(MAX_OF_TYPE["user_report"] + 1)))
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 400
    assert not ErrorUserReport.objects.exists()
