"""Transactions and spans go after TRACES_RETENTION_DAYS: whole days on PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from monitoring.errors.envelope import Item
from monitoring.models import Span, Transaction
from monitoring.traces import partitions
from monitoring.traces.services import traces_store
from monitoring.traces.tasks import apply_traces_retention
from tests.factories import ProjectFactory
from tests.monitoring.traces.conftest import hex_id, span

# Committed rows, as in production: PostgreSQL will not drop a partition that rows inserted
# earlier in the same transaction still have foreign-key checks pending on.
pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def store(project, name: str, at: datetime) -> None:
    """A trace as ingest keeps it, received at `at`."""
    trace_id = hex_id(32)
    root = span(name, trace_id=trace_id, start=at.timestamp(), seconds=0.1, segment=True)
    child = span("db", trace_id=trace_id, start=at.timestamp(), seconds=0.05, parent=root["span_id"])
    item = Item(type="span", headers={}, payload=json.dumps({"items": [root, child]}).encode())
    with time_machine.travel(at, tick=False):
        assert traces_store(project=project, items=[item], received_at=at) == 2


def test_retention_removes_traces_older_than_the_setting(settings):
    settings.TRACES_RETENTION_DAYS = 10
    project = ProjectFactory()
    store(project, "old", NOW - timedelta(days=12))
    store(project, "recent", NOW - timedelta(days=9))
    with time_machine.travel(NOW, tick=False):
        apply_traces_retention()
    assert list(Transaction.objects.values_list("name", flat=True)) == ["recent"]
    assert Span.objects.count() == 2  # the recent trace's root and child


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions need PostgreSQL")
def test_on_postgresql_each_day_is_a_partition_and_retention_drops_whole_days(settings):
    settings.TRACES_RETENTION_DAYS = 10
    project = ProjectFactory()
    for days_ago in (12, 11, 9):
        store(project, f"{days_ago} days ago", NOW - timedelta(days=days_ago))
    for table in (partitions.transactions, partitions.spans):
        assert {(NOW - timedelta(days=d)).date() for d in (12, 11, 9)} <= set(table.days())
    cutoff = (NOW - timedelta(days=10)).date()
    expired = [d for t in (partitions.transactions, partitions.spans) for d in t.days() if d < cutoff]
    with time_machine.travel(NOW, tick=False):
        assert apply_traces_retention() == len(expired)
    for table in (partitions.transactions, partitions.spans):
        assert min(table.days()) >= cutoff
        # The retention tick also makes today's and tomorrow's partitions ahead of traffic.
        assert {NOW.date(), (NOW + timedelta(days=1)).date()} <= set(table.days())
    assert list(Transaction.objects.values_list("name", flat=True)) == ["9 days ago"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname IN ('monitoring_transaction', 'monitoring_span')")
        assert [kind for (kind,) in cursor.fetchall()] == ["p", "p"]  # partitioned tables
