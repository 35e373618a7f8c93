"""Secrets anywhere an event carries text are gone before it is stored: context lines, local
URLs, query strings, messages, and the issue title derived from them. Sent through the
envelope endpoint, as an SDK with its own scrubbing off would send them."""

import json
import string
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.common.scrubbing import FILTERED
from monitoring.models import ErrorEvent

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


def store(client, key, event: dict) -> tuple[dict, str]:
    """The stored payload and its issue's title."""
    event = {"event_id": uuid.uuid4().hex, "platform": "python", **event}
    body = b"{}\n" + json.dumps({"type": "event"}).encode() + b"\n" + json.dumps(event).encode() + b"\n"
    response = client.generic(
        "POST",
        f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200, response.content
    stored = ErrorEvent.objects.select_related("issue").get(event_id=event["event_id"])
    return stored.payload, stored.issue.title


def exception(value: str, frame: dict | None = None) -> dict:
    frame = {"filename": "app/settings.py", "function": "connect", "in_app": True, **(frame or {})}
    return {"values": [{"type": "ValueError", "value": value, "stacktrace": {"frames": [frame]}}]}


def test_source_lines_around_a_frame_lose_secret_assignments(client, ingest_key):
    frame = {
        "pre_context": ["import os", 'password = "hunter2"'],
        "context_line": "    api_key: 'sk-live-123'",
        "post_context": ["SECRET=abc123", "connect()"],
    }
    stored, _ = store(client, ingest_key, {"exception": exception("refused", frame)})
    kept = stored["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert kept["pre_context"] == ["import os", f'password = "{FILTERED}"']
    assert kept["context_line"] == f"    api_key: '{FILTERED}'"
    assert kept["post_context"] == [f"SECRET={FILTERED}", "connect()"]


def test_a_local_holding_a_database_url_loses_its_password(client, ingest_key):
    frame = {"vars": {"db_url": "'postgres://app:s3cr3tpw@db/app'"}}
    stored, _ = store(client, ingest_key, {"exception": exception("could not connect", frame)})
    assert stored["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["db_url"] == (
        f"'postgres://app:{FILTERED}@db/app'"
    )


def test_an_iban_is_masked_in_all_five_places_it_was_stored(client, ingest_key):
    stored, title = store(
        client,
        ingest_key,
        {
            "exception": exception(f"transfer to {IBAN} refused", {"vars": {"account": f"'{IBAN}'"}}),
            "request": {"url": "https://bank.example/t", "query_string": f"to={IBAN}", "data": {"to": IBAN}},
            "extra": {"payee": IBAN},
        },
    )
    assert IBAN not in json.dumps(stored)
    assert stored["request"]["query_string"] == f"to={FILTERED}"
    assert stored["request"]["data"] == {"to": FILTERED}
    assert stored["extra"] == {"payee": FILTERED}
    assert title == f"ValueError: transfer to {FILTERED} refused"


def test_secrets_in_urls_and_messages_leave_neither_payload_nor_title(client, ingest_key):
    stored, title = store(
        client,
        ingest_key,
        {
            "exception": exception("login failed: password=hunter2 for ada"),
            "request": {"url": "https://api.example/v1/orders?token=abc.def.ghi&page=2"},
        },
    )
    assert stored["request"]["url"] == f"https://api.example/v1/orders?token={FILTERED}&page=2"
    assert title == f"ValueError: login failed: password={FILTERED} for ada"
    assert "hunter2" not in json.dumps(stored) and "abc.def.ghi" not in json.dumps(stored)


# The property: any of these secrets, put in any text field of an event, is stored nowhere.
_secret_values = st.text(string.ascii_letters + string.digits, min_size=8, max_size=24).map(lambda v: f"Zq9{v}")


def _luhn_card(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 == 0 else 1)  # doubled: every second digit from the check digit
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in f"{bban}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@st.composite
def secrets(draw) -> tuple[str, str]:
    """(text holding a secret, the secret itself)."""
    kind = draw(st.sampled_from(["assignment", "url", "bearer", "card", "iban"]))
    if kind == "card":
        card = _luhn_card("4" + draw(st.text("0123456789", min_size=14, max_size=14)))
        return f"charged {card} twice", card
    if kind == "iban":
        iban = draw(
            st.sampled_from([("DE", 18), ("NL", 14), ("NO", 11)]).flatmap(
                lambda c: st.text("0123456789", min_size=c[1], max_size=c[1]).map(lambda b: _iban(c[0], b))
            )
        )
        return f"payee {iban} refused", iban[4:]
    value = draw(_secret_values)
    if kind == "url":
        return f"db_url='postgres://app:{value}@db:5432/app'", value
    if kind == "bearer":
        return f"Authorization: Bearer {value}", value
    name = draw(st.sampled_from(["password", "token", "secret", "api_key", "DB_PASSWORD", "client_secret", "apiKey"]))
    shape = draw(st.sampled_from(["{n}={v}", '{n} = "{v}"', "{n}: '{v}'", '"{n}": "{v}"', "?{n}={v}&page=2"]))
    return f"see {shape.format(n=name, v=value)} here", value


def _put(field: str, text: str) -> dict:
    where: dict = {
        "message": {"message": text},
        "exception": {"exception": exception(text)},
        "frame vars": {"exception": exception("x", {"vars": {"note": text, "args": [text]}})},
        "pre_context": {"exception": exception("x", {"pre_context": ["pass", text]})},
        "context_line": {"exception": exception("x", {"context_line": text})},
        "post_context": {"exception": exception("x", {"post_context": [text]})},
        "request url": {"request": {"url": f"https://shop.example/pay?note={text}"}},
        "request query_string": {"request": {"url": "https://shop.example/pay", "query_string": text}},
        "request data": {"request": {"data": {"note": text}}},
        "request raw data": {"request": {"data": text}},
        "request headers": {"request": {"headers": {"X-Note": text}}},
        "request cookies": {"request": {"cookies": f"theme=dark; note={text}"}},
        "extra": {"extra": {"note": text}},
        "contexts": {"contexts": {"app": {"note": text}}},
        "breadcrumbs": {"breadcrumbs": {"values": [{"message": text, "data": {"note": text}}]}},
        "tags": {"tags": {"note": text}},
        "tag pairs": {"tags": [["note", text]]},
        "user": {"user": {"id": "42", "username": text, "data": {"note": text}}},
        "logentry": {"logentry": {"formatted": text, "message": text}},
    }
    return where[field]


FIELDS = [
    "message",
    "exception",
    "frame vars",
    "pre_context",
    "context_line",
    "post_context",
    "request url",
    "request query_string",
    "request data",
    "request raw data",
    "request headers",
    "request cookies",
    "extra",
    "contexts",
    "breadcrumbs",
    "tags",
    "tag pairs",
    "user",
    "logentry",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets(), field=st.sampled_from(FIELDS))
def test_a_secret_in_any_field_is_stored_nowhere(client, ingest_key, secret, field):
    text, value = secret
    stored, title = store(client, ingest_key, _put(field, text))
    assert value not in json.dumps(stored), (field, text)
    assert value not in title, (field, text)
