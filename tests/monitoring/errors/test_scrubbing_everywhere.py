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


_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n{v}\n-----END RSA PRIVATE KEY-----"


@st.composite
def secrets(draw) -> tuple[str, str]:
    """(text holding a secret, the secret itself)."""
    kind = draw(
        st.sampled_from(
            ["assignment", "phrase", "url", "bearer", "card", "iban", "jwt", "aws", "github", "private key"]
        )
    )
    if kind == "card":
        card = _luhn_card("4" + draw(st.text("0123456789", min_size=14, max_size=14)))
        return f"charged {card} twice", card
    if kind == "iban":
        iban = draw(
            st.sampled_from([("DE", 18), ("NL", 14), ("NO", 11)]).flatmap(
                lambda c: st.text("0123456789", min_size=c[1], max_size=c[1]).map(lambda b: _iban(c[0], b))
            )
        )
        # As people write them: compact or in groups of four, upper or lower case.
        if draw(st.booleans()):
            iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        iban = iban.lower() if draw(st.booleans()) else iban
        return f"payee {iban} refused", iban[4:]
    value = draw(_secret_values)
    if kind == "url":
        return f"db_url='postgres://app:{value}@db:5432/app'", value
    if kind == "bearer":
        return f"Authorization: Bearer {value}", value
    if kind == "jwt":
        return f"session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{value}.{value} expired", value
    if kind == "aws":
        key = "AKIA" + value.upper()[:16].ljust(16, "7")
        return f"using {key} for s3", key[4:]
    if kind == "github":
        return f"clone with ghp_{value:A<36}", value
    if kind == "private key":
        return _PRIVATE_KEY.format(v=value), value
    name = draw(st.sampled_from(["password", "token", "secret", "api_key", "DB_PASSWORD", "client_secret", "apiKey"]))
    if kind == "phrase":
        shape = draw(st.sampled_from(["the {n} is {v}", "{n} was '{v}'", 'my {n} is "{v}".', "{n}: {v}"]))
        return shape.format(n=name, v=value), value
    shape = draw(st.sampled_from(["{n}={v}", '{n} = "{v}"', "{n}: '{v}'", '"{n}": "{v}"', "?{n}={v}&page=2"]))
    return f"see {shape.format(n=name, v=value)} here", value


def _put(field: str, text: str, value: str) -> dict:
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
        # The secret only as a parameter of the message, as logging.info("… %s", secret) sends it.
        "logentry params": {"logentry": {"message": text.replace(value, "%s"), "params": ["ada", value][-1:]}},
        "dict key": {"extra": {text: "1", "connections": {text: {"open": 2}}}},
        "header name": {"request": {"headers": {text: "1"}}},
        # Nested under a secret-looking name: the value is no text of its own to recognise.
        "under a secret key": {"extra": {"db": {"password": {"current": value, "old": [value]}}}},
        "name and value": {"request": {"data": {"fields": [{"name": "password", "value": value}]}}},
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
    "logentry params",
    "dict key",
    "header name",
    "under a secret key",
    "name and value",
]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets(), field=st.sampled_from(FIELDS))
def test_a_secret_in_any_field_is_stored_nowhere(client, ingest_key, secret, field):
    text, value = secret
    stored, title = store(client, ingest_key, _put(field, text, value))
    assert value not in json.dumps(stored), (field, text)
    assert value not in title, (field, text)


ORDINARY = [
    "password is required",
    "Password must be at least 8 characters",
    "token is expired",
    "the secret is out",
    "The API key was rotated by ada",
    "Tokenizer is v2 now",
    "GET /api/cart/12 200",
    "order 1234567890123 shipped",
    "KeyError: 'total'",
    "be68539007547034",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 took 1200 ms",
    "ISO 8601 date 2026-12-07T10:20:57Z",
]


def test_ordinary_messages_are_stored_as_sent(client, ingest_key):
    for n, text in enumerate(ORDINARY):
        event = {"exception": exception(text), "extra": {"note": text}, "fingerprint": [f"ordinary-{n}"]}
        stored, title = store(client, ingest_key, event)
        assert stored["exception"]["values"][0]["value"] == text
        assert stored["extra"] == {"note": text}
        assert title == f"ValueError: {text}"


_words = st.sampled_from(
    "password passwords token secret api key is was the for user reset required expired invalid "
    "missing too short rotated and not a".split()
)


@settings(max_examples=300)
@given(st.lists(_words, min_size=1, max_size=12).map(" ".join))
def test_sentences_about_secrets_that_hold_none_are_left_alone(text):
    from monitoring.common.scrubbing import scrub_text

    assert scrub_text(text) == text


def test_keys_holding_secrets_are_masked_and_keep_their_values_apart(client, ingest_key):
    pools = {"postgres://app:pw-one@db/app": {"open": 1}, "postgres://app:pw-two@db/app": {"open": 2}}
    stored, _ = store(client, ingest_key, {"message": {"message": "pool exhausted"}, "extra": {"pools": pools}})
    kept = stored["extra"]["pools"]
    assert "pw-one" not in json.dumps(kept) and "pw-two" not in json.dumps(kept)
    assert sorted(v["open"] for v in kept.values()) == [1, 2]
    assert f"postgres://app:{FILTERED}@db/app" in kept


def test_a_log_message_keeps_the_parameters_that_are_no_secret(client, ingest_key):
    logentry = {"message": "login %s failed: password=%s", "params": ["ada", "hunter2"]}
    stored, _ = store(client, ingest_key, {"logentry": logentry})
    assert stored["logentry"]["params"] == ["ada", FILTERED]
