"""Whatever bytes arrive, the envelope endpoint answers 2xx or 4xx, never 500."""

import gzip
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.models import ErrorEvent

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.one_of(st.uuids().map(lambda u: u.hex), st.text(max_size=40), json_values),
        "timestamp": st.one_of(st.floats(), st.integers(), st.text(max_size=30)),
        "level": json_values,
        "release": json_values,
        "environment": json_values,
        "user": json_values,
        "message": json_values,
        "logentry": json_values,
        "fingerprint": json_values,
        "exception": json_values,
        "extra": json_values,
        "request": json_values,
        "transaction": json_values,
    },
)
item_types = st.sampled_from(["event", "transaction", "attachment", "client_report", "session", "nonsense"])


@st.composite
def envelopes(draw):
    """Well-formed envelopes with fuzzed items, optionally cut, with bytes flipped or lengths lied about."""
    parts = [json.dumps(draw(st.dictionaries(st.sampled_from(["event_id", "dsn", "sent_at"]), json_values))).encode()]
    for _ in range(draw(st.integers(0, 4))):
        payload = json.dumps(draw(event_like), allow_nan=True).encode()
        header = {"type": draw(item_types)}
        if draw(st.booleans()):
            header["length"] = len(payload) + draw(st.sampled_from([0, 0, 0, -3, 5]))
        parts.append(json.dumps(header).encode())
        parts.append(payload)
    body = b"\n".join(parts) + b"\n"
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body


def _check(response):
    assert response.status_code < 500, response.content
    if response.status_code == 200:
        assert len(response.json()["id"]) == 32


@FUZZ
@given(body=envelopes())
def test_fuzzed_envelopes_never_fail(client, envelope_url, ingest_key, body):
    _check(
        client.generic(
            "POST",
            f"{envelope_url}?sentry_key={ingest_key.public_key}",
            body,
            content_type="application/x-sentry-envelope",
        )
    )


@FUZZ
@given(body=st.binary(max_size=2_000), encoding=st.sampled_from(["", "gzip", "deflate", "br", "identity"]))
def test_random_bytes_never_fail(client, envelope_url, ingest_key, body, encoding):
    _check(
        client.generic(
            "POST",
            f"{envelope_url}?sentry_key={ingest_key.public_key}",
            body,
            content_type="application/octet-stream",
            HTTP_CONTENT_ENCODING=encoding,
        )
    )


@FUZZ
@given(event=event_like)
def test_fuzzed_store_events_never_fail(client, ingest_key, event):
    _check(
        client.generic(
            "POST",
            f"/api/{ingest_key.project_id}/store/?sentry_key={ingest_key.public_key}",
            gzip.compress(json.dumps(event).encode()),
            content_type="application/json",
            HTTP_CONTENT_ENCODING="gzip",
        )
    )


@FUZZ
@given(key=st.text(max_size=80), secret=st.text(max_size=40), dsn=st.text(max_size=80))
def test_fuzzed_credentials_are_refused_not_failed(client, envelope_url, ingest_key, key, secret, dsn):
    """Keys reach the database only in the shape keys have (NUL bytes, for one, make PostgreSQL fail)."""
    header = json.dumps({"dsn": f"http://{dsn}@h/1"}).encode() + b"\n"
    for extra in ({"HTTP_X_SENTRY_AUTH": f"Sentry sentry_key={key}, sentry_secret={secret}"}, {}):
        response = client.generic(
            "POST",
            envelope_url,
            header,
            content_type="application/x-sentry-envelope",
            QUERY_STRING=f"sentry_key={quote(key)}",
            **extra,
        )
        assert response.status_code in (400, 401, 403), response.content


def test_the_fuzzer_reaches_storage(client, envelope_url, ingest_key):
    """Guard against a fuzzer that only ever produces refusals."""
    body = b'{}\n{"type":"event"}\n{"message":"reached"}\n'
    _check(
        client.generic(
            "POST",
            f"{envelope_url}?sentry_key={ingest_key.public_key}",
            body,
            content_type="application/x-sentry-envelope",
        )
    )
    assert ErrorEvent.objects.count() == 1
