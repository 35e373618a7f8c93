"""The envelope and store endpoints: auth before the body, compression, bad input, limits."""

import gzip
import json
import uuid
import zlib

import brotli
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from monitoring.errors.ratelimit import category_budgets
from monitoring.models import EnvelopeOutcome, ErrorAttachment, ErrorEvent, ErrorIssue, ErrorUserReport, IngestKey
from monitoring.projects.services import ingest_keys
from monitoring.projects.services.ingest_keys import ingest_key_revoke
from tests.factories import make_ingest_key

pytestmark = pytest.mark.django_db


def event(message="boom", **extra):
    return {"event_id": uuid.uuid4().hex, "message": message, "level": "error", **extra}


def item(payload, type_="event", with_length=True):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    header = {"type": type_, **({"length": len(body)} if with_length else {})}
    return json.dumps(header).encode() + b"\n" + body + b"\n"


def envelope(*items, header=None):
    return json.dumps(header or {}).encode() + b"\n" + b"".join(items)


def auth(key):
    return {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={key.public_key}"}


def post(client, url, body, *, encoding=None, headers=None):
    extra = dict(headers or {})
    if encoding:
        extra["HTTP_CONTENT_ENCODING"] = encoding
    return client.generic("POST", url, body, content_type="application/x-sentry-envelope", **extra)


def outcomes():
    return {(o.category, o.reason, o.from_client): o.quantity for o in EnvelopeOutcome.objects.all()}


# --- Authentication -----------------------------------------------------------------------


def test_an_envelope_is_stored_and_answered_with_its_id(client, envelope_url, ingest_key):
    sent = event("hello")
    response = post(
        client, envelope_url, envelope(item(sent), header={"event_id": sent["event_id"]}), headers=auth(ingest_key)
    )
    assert response.status_code == 200
    assert response.json() == {"id": sent["event_id"]}
    assert ErrorEvent.objects.get().event_id.hex == sent["event_id"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_key_may_come_from_the_query_string_or_the_envelope_dsn(client, envelope_url, ingest_key):
    assert (
        post(client, f"{envelope_url}?sentry_key={ingest_key.public_key}", envelope(item(event()))).status_code == 200
    )
    dsn = f"http://{ingest_key.public_key}@testserver/{ingest_key.project_id}"
    assert post(client, envelope_url, envelope(item(event()), header={"dsn": dsn})).status_code == 200
    assert ErrorEvent.objects.count() == 2


def test_missing_unknown_revoked_or_foreign_keys_are_refused(client, envelope_url, ingest_key):
    body = envelope(item(event()))
    missing = post(client, envelope_url, body)
    assert missing.status_code == 401 and "sentry_key" in missing.json()["detail"]
    unknown = post(client, envelope_url, body, headers={"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=" + "0" * 32})
    assert unknown.status_code == 401
    other = make_ingest_key().key
    foreign = post(client, envelope_url, body, headers=auth(other))
    assert foreign.status_code == 403 and "project" in foreign.json()["detail"]
    ingest_key_revoke(key=ingest_key)
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 401
    assert ErrorEvent.objects.count() == 0


def test_a_key_revoked_by_another_process_is_refused_within_the_cache_bound(
    client, envelope_url, ingest_key, monkeypatch
):
    body = envelope(item(event()))
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 200
    # Another web process revokes it: this one's cached lookup may stand a little longer,
    IngestKey.objects.filter(pk=ingest_key.pk).update(revoked_at=timezone.now())
    assert post(client, envelope_url, envelope(item(event())), headers=auth(ingest_key)).status_code == 200
    # but no longer than KEY_CACHE_SECONDS.
    later = ingest_keys.time.monotonic() + ingest_keys.KEY_CACHE_SECONDS + 0.1
    monkeypatch.setattr(ingest_keys.time, "monotonic", lambda: later)
    assert post(client, envelope_url, envelope(item(event())), headers=auth(ingest_key)).status_code == 401


def test_a_key_with_a_secret_needs_it(client):
    new = make_ingest_key(with_secret=True)
    url = f"/api/{new.key.project_id}/envelope/"
    header = f"Sentry sentry_key={new.key.public_key}"
    assert post(client, url, envelope(item(event())), headers={"HTTP_X_SENTRY_AUTH": header}).status_code == 401
    ok = post(
        client, url, envelope(item(event())), headers={"HTTP_X_SENTRY_AUTH": f"{header}, sentry_secret={new.secret}"}
    )
    assert ok.status_code == 200


def test_the_key_is_checked_before_the_body_is_decoded(client, envelope_url):
    bomb = gzip.compress(b"\0" * 100_000_000)  # would be a 413 if it were decoded
    response = post(
        client, envelope_url, bomb, encoding="gzip", headers={"HTTP_X_SENTRY_AUTH": "Sentry sentry_key=" + "1" * 32}
    )
    assert response.status_code == 401


def test_other_methods_are_refused(client, envelope_url):
    assert client.get(envelope_url).status_code == 405
    assert client.options(envelope_url).status_code == 200


# --- Compression and size -------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding,compress", [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)]
)
def test_compressed_envelopes_are_decoded(client, envelope_url, ingest_key, encoding, compress):
    response = post(
        client, envelope_url, compress(envelope(item(event("zipped")))), encoding=encoding, headers=auth(ingest_key)
    )
    assert response.status_code == 200
    assert ErrorIssue.objects.get().title == "zipped"


def test_a_body_over_the_caps_is_413(client, envelope_url, ingest_key, settings):
    settings.ERRORS_MAX_ENVELOPE_BYTES = 1_000_000
    bomb = brotli.compress(envelope(item(event("x" * 3_000_000))))
    assert post(client, envelope_url, bomb, encoding="br", headers=auth(ingest_key)).status_code == 413
    settings.ERRORS_MAX_BODY_BYTES = 1_000
    assert post(client, envelope_url, b"{}\n" + b" " * 2_000, headers=auth(ingest_key)).status_code == 413
    assert ErrorEvent.objects.count() == 0


def test_unknown_or_corrupt_encodings_are_4xx(client, envelope_url, ingest_key):
    assert post(client, envelope_url, b"x", encoding="compress", headers=auth(ingest_key)).status_code == 415
    assert post(client, envelope_url, b"not gzip", encoding="gzip", headers=auth(ingest_key)).status_code == 400


# --- Bad input: good items kept, bad ones counted --------------------------------------------


def report(comments):
    """A user report: an item that is stored, sent beside the one event an envelope may hold."""
    return {"event_id": uuid.uuid4().hex, "name": "Ann", "email": "ann@example.com", "comments": comments}


def reports():
    return sorted(ErrorUserReport.objects.values_list("comments", flat=True))


def test_a_truncated_envelope_keeps_the_items_before_the_cut(client, envelope_url, ingest_key):
    whole = envelope(item(event("kept")), item(report("cut off"), "user_report"))
    response = post(client, envelope_url, whole[:-40], headers=auth(ingest_key))
    assert response.status_code == 200
    assert [i.title for i in ErrorIssue.objects.all()] == ["kept"]
    assert reports() == []
    assert outcomes() == {("default", "invalid", False): 1}


def test_a_wrong_length_drops_that_item_only(client, envelope_url, ingest_key):
    good = item(event("kept"))
    payload = json.dumps(report("wrong length")).encode()
    bad = json.dumps({"type": "user_report", "length": len(payload) - 7}).encode() + b"\n" + payload + b"\n"
    assert post(client, envelope_url, envelope(good, bad), headers=auth(ingest_key)).status_code == 200
    assert [i.title for i in ErrorIssue.objects.all()] == ["kept"]
    assert outcomes() == {("default", "invalid", False): 1}


def test_invalid_json_in_one_item_keeps_the_others(client, envelope_url, ingest_key):
    body = envelope(
        item(report("first"), "user_report"),
        item(b'{"message": "bro'),
        item(report("third"), "user_report", with_length=False),
    )
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 200
    assert reports() == ["first", "third"]
    assert outcomes() == {("error", "invalid", False): 1}


def test_an_event_over_one_mib_is_dropped_and_the_rest_kept(client, envelope_url, ingest_key):
    huge = event("huge", extra={"blob": "x" * (1024 * 1024)})
    body = envelope(item(huge), item(report("small"), "user_report"))
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 200
    assert not ErrorIssue.objects.exists()
    assert reports() == ["small"]
    assert outcomes() == {("error", "too_large", False): 1}


def test_an_unreadable_envelope_header_is_400(client, envelope_url, ingest_key):
    for body in (b"", b"not json\n" + item(event()), b"[]\n"):
        response = post(client, envelope_url, body, headers=auth(ingest_key))
        assert response.status_code == 400, body
        assert "envelope header" in response.json()["detail"]


def test_items_that_are_not_events_are_never_a_failure(client, envelope_url, ingest_key):
    report = {"timestamp": 1, "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}]}
    body = envelope(
        item(b"binary \x00\xff attachment", type_="attachment"),
        item({"some": "future item"}, type_="brand_new_type"),
        item(report, type_="client_report"),
        item(event("still stored")),
    )
    assert post(client, envelope_url, body, headers=auth(ingest_key)).status_code == 200
    assert ErrorIssue.objects.get().title == "still stored"
    assert outcomes() == {("unknown", "not_stored", False): 1, ("error", "queue_overflow", True): 3}
    # The attachment goes with the event, found by the event item's id (the header has none).
    assert ErrorAttachment.objects.get().event_id == ErrorEvent.objects.get().event_id


def test_a_resent_event_is_stored_once(client, envelope_url, ingest_key):
    sent = event("retry me", timestamp=1_700_000_000.5)
    sent["timestamp"] = None  # the receive time stands in; a resend must still dedupe by id
    for _ in range(2):
        assert post(client, envelope_url, envelope(item(sent)), headers=auth(ingest_key)).status_code == 200
    assert ErrorEvent.objects.count() == 1
    assert ErrorIssue.objects.get().event_count == 1


# --- Store endpoint -------------------------------------------------------------------------


def test_store_takes_one_json_event(client, ingest_key):
    url = f"/api/{ingest_key.project_id}/store/"
    sent = event("stored via store")
    response = client.post(url, json.dumps(sent), content_type="application/json", **auth(ingest_key))
    assert response.status_code == 200 and response.json() == {"id": sent["event_id"]}
    bad = client.post(url, "{nope", content_type="application/json", **auth(ingest_key))
    assert bad.status_code == 400 and "invalid event" in bad.json()["detail"]
    not_object = client.post(url, "[1, 2]", content_type="application/json", **auth(ingest_key))
    assert not_object.status_code == 400
    bad_id = client.post(url, json.dumps({"event_id": "nope"}), content_type="application/json", **auth(ingest_key))
    assert bad_id.status_code == 400 and "event_id" in bad_id.json()["detail"]
    huge = client.post(
        url, json.dumps(event(extra={"blob": "x" * 1_100_000})), content_type="application/json", **auth(ingest_key)
    )
    assert huge.status_code == 413
    assert ErrorEvent.objects.count() == 1


# --- Rate limits ----------------------------------------------------------------------------


def test_a_throttled_key_gets_429_with_sentry_rate_limit_headers(client, envelope_url, ingest_key, settings):
    settings.ERRORS_RATE_PER_SECOND, settings.ERRORS_RATE_BURST = 0.1, 2
    answers = [post(client, envelope_url, envelope(item(event())), headers=auth(ingest_key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[-1]
    assert int(limited["Retry-After"]) >= 1
    assert limited["X-Sentry-Rate-Limits"] == f"{limited['Retry-After']}::key"
    assert ErrorEvent.objects.count() == 2


def test_a_category_over_its_budget_is_dropped_and_named_while_the_rest_is_kept(
    client, envelope_url, ingest_key, settings
):
    settings.ERRORS_CATEGORY_RATE_LIMITS = "error=0.1/1"
    report = {"event_id": uuid.uuid4().hex, "name": "Ann", "email": "ann@example.com", "comments": "it broke"}
    first = post(client, envelope_url, envelope(item(event("one"))), headers=auth(ingest_key))
    over = post(client, envelope_url, envelope(item(event("two"))), headers=auth(ingest_key))
    second = post(
        client, envelope_url, envelope(item(event("three")), item(report, "user_report")), headers=auth(ingest_key)
    )
    assert first.status_code == over.status_code == second.status_code == 200
    assert "X-Sentry-Rate-Limits" not in first
    wait = over["X-Sentry-Rate-Limits"].split(":")[0]
    assert int(wait) >= 1 and over["X-Sentry-Rate-Limits"] == f"{wait}:error:key"
    assert second["X-Sentry-Rate-Limits"].endswith(":error:key")
    assert [e.payload.get("message") for e in ErrorEvent.objects.all()] == ["one"]
    assert outcomes()[("error", "ratelimit_backoff", False)] == 2
    # The user report is another category: kept though errors are throttled.
    assert ErrorUserReport.objects.get().comments == "it broke"


def test_category_budgets_read_the_setting_and_refuse_a_malformed_one():
    assert category_budgets("error=50/500, transaction=200") == {"error": (50.0, 500), "transaction": (200.0, 200)}
    with pytest.raises(ImproperlyConfigured, match="'error=fast' is not category=rate/burst"):
        category_budgets("error=fast")


ITEM_TYPES = (
    "event",
    "transaction",
    "span",
    "session",
    "sessions",
    "check_in",
    "client_report",
    "user_report",
    "feedback",
    "attachment",
    "log",
    "otel_log",
    "profile",
    "replay_event",
    "statsd",
)
JUNK = (
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{}",
    b'{"items": [null, 1, {}], "aggregates": [{}], "status": "unhandled", "duration": "x"}',
    b'{"items": {"a": 1}, "monitor_slug": "m", "status": "ok", "monitor_config": {"schedule": 1}}',
    b"\xff\xfe not utf-8",
    b"[" * 5000,
)


@pytest.mark.parametrize("type_", ITEM_TYPES)
def test_no_item_type_is_ever_a_500(client, envelope_url, ingest_key, type_):
    for junk in JUNK:
        response = post(client, envelope_url, envelope(item(junk, type_=type_)), headers=auth(ingest_key))
        assert response.status_code == 200, (type_, junk)
