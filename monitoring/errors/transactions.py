"""sentry-sdk's transaction and span items, read into metric points: duration and failure
per transaction name, so the metrics store's rollups give p50/p95 and failure rate, and
alert rules can use them. Pure; no database.

Newer SDKs (sentry-python 3, @sentry/node and @sentry/browser 10+ with streamed traces)
send no transaction items: they send `span` items, each holding up to 1000 spans
(`{"version": 2, "items": [...]}`, content type application/vnd.sentry.items.span.v2+json).
A segment span (`is_segment`, the local root of a trace) is what a transaction was; its
child spans carry nothing the metrics need, so they are accepted and not kept.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitoring.errors.events import storable, timestamp_within
from monitoring.telemetry.payloads import PointIn

DURATION = "transaction.duration"
# 1 for a failed transaction, 0 otherwise: the average over any window is the failure rate.
FAILED = "transaction.failed"
# Trace statuses that are not failures, as Sentry counts them.
NOT_FAILED = frozenset({"ok", "cancelled", "unknown"})
# Span v2 statuses are "ok" or "error" only; older span payloads use the trace statuses above.
SEGMENT_NAME_ATTRIBUTES = ("sentry.segment.name", "sentry.transaction")


class InvalidTransaction(ValueError):
    pass


def timestamp_seconds(value: Any) -> float | None:
    """An SDK timestamp (Unix seconds, or RFC 3339 text) as Unix seconds; None if it is neither
    or not finite. Shared with the trace reader, which must agree on what a readable time is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _points(
    name: str, start: float, end: float, failed: bool, *, received_at: datetime, max_lateness: timedelta
) -> list[PointIn]:
    """Two points for a finished transaction, at its end (or the receive time, if the end
    is further back than the metrics store accepts points)."""
    at = timestamp_within(end, received_at)
    if at < received_at - max_lateness:
        at = received_at
    # storable: a NUL in the name would make the whole envelope's write fail in a JSON column.
    tags = {"transaction": storable(name.strip()[:200])}
    return [
        PointIn(name=DURATION, value=(end - start) * 1000, timestamp=at, tags=tags, unit="millisecond"),
        PointIn(name=FAILED, value=1.0 if failed else 0.0, timestamp=at, tags=tags),
    ]


def _times(start_value: Any, end_value: Any, what: str) -> tuple[float, float]:
    start, end = timestamp_seconds(start_value), timestamp_seconds(end_value)
    if start is None or end is None or end < start:
        raise InvalidTransaction(f"{what} must be times, the end not before the start")
    return start, end


def transaction_points(payload: Any, *, received_at: datetime, max_lateness: timedelta) -> list[PointIn]:
    if not isinstance(payload, dict):
        raise InvalidTransaction("a transaction must be a JSON object")
    name = payload.get("transaction")
    if not isinstance(name, str) or not name.strip():
        raise InvalidTransaction("transaction (its name) is required")
    start, end = _times(payload.get("start_timestamp"), payload.get("timestamp"), "start_timestamp and timestamp")
    contexts = payload.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    status = trace.get("status") if isinstance(trace, dict) else None
    failed = isinstance(status, str) and status not in NOT_FAILED
    return _points(name, start, end, failed, received_at=received_at, max_lateness=max_lateness)


@dataclass
class SpanBatch:
    """What one span item held: the points of its segment spans, and how many spans of it
    were accepted (segments and their children) or refused."""

    points: list[PointIn] = field(default_factory=list)
    segments: int = 0
    accepted: int = 0
    invalid: int = 0


def span_count(headers: dict[str, Any]) -> int:
    """How many spans an item says it holds, for counting one that is not read (over its
    budget, or unreadable): its `item_count`, else one."""
    count = headers.get("item_count")
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1


def span_attribute(span: dict, key: str) -> Any:
    """A span v2 attribute is {"type": …, "value": …}; older spans keep plain values in `data`."""
    attributes = span.get("attributes")
    if isinstance(attributes, dict):
        value = attributes.get(key)
        return value.get("value") if isinstance(value, dict) else value
    data = span.get("data")
    return data.get(key) if isinstance(data, dict) else None


def is_segment_span(span: dict) -> bool:
    """Whether a span item's span is a segment (what a transaction was): its `is_segment` flag,
    else whether it has no parent."""
    flag = span.get("is_segment")
    if isinstance(flag, bool):
        return flag
    # Spans from before is_segment existed: only a root span (no parent) starts a segment.
    return not span.get("parent_span_id")


def _segment_points(span: dict, *, received_at: datetime, max_lateness: timedelta) -> list[PointIn]:
    names = [span.get("name"), span.get("description"), *(span_attribute(span, k) for k in SEGMENT_NAME_ATTRIBUTES)]
    name = next((n for n in names if isinstance(n, str) and n.strip()), None)
    if name is None:
        raise InvalidTransaction("a segment span needs a name")
    # v2 ends at end_timestamp; the span JSON before it (and transactions) at timestamp.
    end_value = span.get("end_timestamp", span.get("timestamp"))
    start, end = _times(span.get("start_timestamp"), end_value, "start_timestamp and end_timestamp")
    status = span.get("status")
    failed = isinstance(status, str) and status not in NOT_FAILED
    return _points(name, start, end, failed, received_at=received_at, max_lateness=max_lateness)


def span_points(payload: Any, *, received_at: datetime, max_lateness: timedelta) -> SpanBatch:
    """Points for each segment span in a span item. A span that cannot be read is counted
    invalid and the rest kept; InvalidTransaction when the item itself holds no spans."""
    if not isinstance(payload, dict):
        raise InvalidTransaction("a span item must be a JSON object")
    if "items" in payload:
        spans = payload["items"]
        if not isinstance(spans, list):
            raise InvalidTransaction("items must be a list of spans")
    else:
        spans = [payload]  # one span per item, as SDKs sent spans before the v2 container
    batch = SpanBatch()
    for span in spans:
        if not isinstance(span, dict):
            batch.invalid += 1
            continue
        if is_segment_span(span):
            try:
                batch.points.extend(_segment_points(span, received_at=received_at, max_lateness=max_lateness))
            except InvalidTransaction:
                batch.invalid += 1
                continue
            batch.segments += 1
        batch.accepted += 1
    return batch
