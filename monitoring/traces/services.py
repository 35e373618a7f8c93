"""Writes: keeping an envelope's transactions and spans, and dropping them past retention."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from monitoring.errors.envelope import Item
from monitoring.errors.services.outcomes import envelope_outcomes_record
from monitoring.models import Project
from monitoring.traces.items import Trace, span_trace, transaction_trace
from monitoring.traces.models import Span, Transaction
from monitoring.traces.partitions import spans, transactions


def _read(item: Item, *, received_at: datetime, scrub_keys: list[str] | None) -> Trace:
    try:
        payload = item.json()
    except (ValueError, RecursionError):
        return Trace()  # the metrics' reading of the same item counts it invalid
    read = transaction_trace if item.type == "transaction" else span_trace
    return read(payload, received_at=received_at, scrub_keys=scrub_keys)


def traces_store(*, project: Project, items: Iterable[Item], received_at: datetime) -> int:
    """Keep the transactions and spans of an envelope's transaction and span items; the
    number of spans kept. One atomic write, finished before ingest answers: a 2xx means the
    trace is there. Bounded by the envelope's own bounds (one transaction item, 1000 spans)
    and MAX_SPANS_PER_ITEM. A retried envelope stores nothing twice. Spans that cannot be read
    are counted in the day's envelope outcomes as (span, invalid), those past the limit as
    (span, too_large)."""
    scrub_keys = (
        [k.strip() for k in project.errors_scrub_extra_keys.splitlines() if k.strip()]
        if project.errors_scrub_data
        else None
    )
    trace = Trace()
    for item in items:
        read = _read(item, received_at=received_at, scrub_keys=scrub_keys)
        trace.transactions += read.transactions
        trace.spans += read.spans
        trace.skipped += read.skipped
        trace.over_limit += read.over_limit
    if trace.skipped or trace.over_limit:
        dropped = {("span", "invalid"): trace.skipped, ("span", "too_large"): trace.over_limit}
        envelope_outcomes_record(project=project, day=received_at.date(), dropped=dropped)
    if not trace.spans:
        return 0
    with db_transaction.atomic():
        transactions.ensure(t.span.start.date() for t in trace.transactions)
        spans.ensure(s.start.date() for s in trace.spans)
        Transaction.objects.bulk_create(
            [
                Transaction(
                    project=project,
                    trace_id=t.span.trace_id,
                    span_id=t.span.span_id,
                    name=t.name,
                    op=t.span.op,
                    status=t.span.status,
                    failed=t.failed,
                    start=t.span.start,
                    end=t.span.end,
                    duration=t.span.duration,
                    release=t.release,
                    environment=t.environment,
                )
                for t in trace.transactions
            ],
            ignore_conflicts=True,
        )
        Span.objects.bulk_create(
            [
                Span(
                    project=project,
                    trace_id=s.trace_id,
                    span_id=s.span_id,
                    parent_span_id=s.parent_span_id,
                    op=s.op,
                    description=s.description,
                    status=s.status,
                    start=s.start,
                    end=s.end,
                    duration=s.duration,
                    data=s.data,
                )
                for s in trace.spans
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
    return len(trace.spans)


def traces_retention_apply(*, now: datetime | None = None) -> int:
    """Drop transactions and spans older than TRACES_RETENTION_DAYS: whole days on
    PostgreSQL, rows elsewhere. Also makes tomorrow's partitions, so the first trace of a
    day does not pay for it. Returns partitions dropped (or rows deleted)."""
    now = now or timezone.now()
    tomorrow = (now + timedelta(days=1)).date()
    transactions.ensure([now.date(), tomorrow])
    spans.ensure([now.date(), tomorrow])
    cutoff = now - timedelta(days=settings.TRACES_RETENTION_DAYS)
    return transactions.drop_before(cutoff) + spans.drop_before(cutoff)
