"""A transaction named with a NUL: its name became a metric tag that
PostgreSQL's JSON cannot hold, and the whole envelope, error events and all, was refused with
"the database cannot store a value". The name is kept with the character replaced, as an
event's text is."""

import pytest

from monitoring.models import Transaction
from tests.monitoring.traces.conftest import _forget_active_keys, hex_id, ingest_key, now, send, transaction_item  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_transaction_name_json_cannot_hold_is_kept_replaced(client, ingest_key):  # noqa: F811
    _, body = transaction_item("GET /a\x00b", trace_id=hex_id(32), start=now(), seconds=0.1)

    send(client, ingest_key, body)

    assert Transaction.objects.get().name == "GET /a\ufffdb"
