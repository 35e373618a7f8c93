import json
import time
import uuid

import pytest

from monitoring.projects.services import ingest_keys
from tests.factories import make_ingest_key

V2 = "application/vnd.sentry.items.span.v2+json"


@pytest.fixture(autouse=True)
def _forget_active_keys():
    # A per-process memory of active keys: a rolled-back test must not leave its key behind.
    ingest_keys._active.clear()


@pytest.fixture
def ingest_key(db):
    return make_ingest_key().key


def hex_id(length: int) -> str:
    return uuid.uuid4().hex[:length]


def span(name, *, trace_id, start, seconds, op="db", parent=None, segment=False, status="ok", **attributes):
    """A span as sentry-python 3 and @sentry/node 10+ stream it (span v2)."""
    return {
        "trace_id": trace_id,
        "span_id": hex_id(16),
        **({"parent_span_id": parent} if parent else {}),
        "name": name,
        "status": status,
        "is_segment": segment,
        "start_timestamp": start,
        "end_timestamp": start + seconds,
        "attributes": {
            "sentry.op": {"type": "string", "value": op},
            **{k: {"type": "string", "value": v} for k, v in attributes.items()},
        },
    }


def span_item(*spans):
    body = json.dumps({"version": 2, "items": list(spans)}).encode()
    header = {"type": "span", "item_count": len(spans), "content_type": V2}
    return json.dumps(header).encode() + b"\n" + body + b"\n"


def transaction_item(name, *, trace_id, start, seconds, children=(), status="ok", span_id=None, **extra):
    """A transaction as sentry-python 2.x sends it: the root in contexts.trace, children in spans."""
    payload = {
        "type": "transaction",
        "event_id": uuid.uuid4().hex,
        "transaction": name,
        "start_timestamp": start,
        "timestamp": start + seconds,
        "release": "shop@1.0",
        "environment": "prod",
        "contexts": {
            "trace": {"trace_id": trace_id, "span_id": span_id or hex_id(16), "op": "http.server", "status": status}
        },
        "spans": list(children),
        **extra,
    }
    body = json.dumps(payload).encode()
    return payload, json.dumps({"type": "transaction", "length": len(body)}).encode() + b"\n" + body + b"\n"


def send(client, key, *items):
    response = client.generic(
        "POST",
        f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
        b"{}\n" + b"".join(items),
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200, response.content
    return response


def now() -> float:
    return time.time() - 5
