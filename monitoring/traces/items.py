"""Transaction items and span (v2) items, read into the rows a trace is kept as. Pure; no
database.

A transaction item is a root span (contexts.trace) with its child spans in `spans`; a span
item holds spans of any traces, and a segment span among them (`is_segment`, or a span with
no parent in payloads from before the flag) is what a transaction was. Either way every span
becomes a SpanIn, and each root or segment also a TransactionIn, so the waterfall reads
spans alone and the slowest-traces list reads transactions alone.

What a span cannot be drawn without (ids, times) makes it skipped, not the item refused, and
counted in `Trace.skipped` for the envelope outcomes (span, invalid). The metrics
(monitoring/errors/transactions.py) already judge a span item's segment spans and its
non-object entries, so those are not counted twice; a transaction item's child spans, and a
span item's child spans, are read here only.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitoring.common.scrubbing import scrub
from monitoring.errors.events import storable, timestamp_within
from monitoring.errors.transactions import (
    NOT_FAILED,
    SEGMENT_NAME_ATTRIBUTES,
    is_segment_span,
    span_attribute,
    timestamp_seconds,
)

# One transaction item may carry no more spans than the span container does (Relay's 1000);
# past that the rest are not kept, so one envelope's write stays bounded.
MAX_SPANS_PER_ITEM = 1000
MAX_DATA_KEYS = 50
MAX_DATA_TEXT = 500
# A span lasting longer is a clock error; laid out from the receive time it would also run past
# the last date Python can hold.
MAX_SPAN_SECONDS = 366 * 86400
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class SpanIn:
    trace_id: str
    span_id: str
    parent_span_id: str
    op: str
    description: str
    status: str
    start: datetime
    end: datetime
    data: dict[str, Any]

    @property
    def duration(self) -> float:
        return (self.end - self.start) / timedelta(milliseconds=1)


@dataclass(frozen=True)
class TransactionIn:
    span: SpanIn  # its root span
    name: str
    release: str
    environment: str

    @property
    def failed(self) -> bool:
        return bool(self.span.status) and self.span.status not in NOT_FAILED


@dataclass
class Trace:
    """What one envelope's transaction and span items hold."""

    transactions: list[TransactionIn] = field(default_factory=list)
    spans: list[SpanIn] = field(default_factory=list)
    skipped: int = 0  # spans not kept because they cannot be read, and not counted by the metrics
    over_limit: int = 0  # spans past MAX_SPANS_PER_ITEM in one item: dropped, counted as too large


def _text(value: Any, limit: int) -> str:
    return storable(value.strip()[:limit]) if isinstance(value, str) else ""


def _id(value: Any, pattern: re.Pattern) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.lower().replace("-", "")
    return value if pattern.match(value) else None


def _data(value: Any, scrub_keys: list[str] | None) -> dict[str, Any]:
    """A span's data, small: the first MAX_DATA_KEYS plain values, long text cut, scrubbed
    as events are (a db statement or URL can carry credentials) unless the project says not."""
    if not isinstance(value, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, item in list(value.items())[:MAX_DATA_KEYS]:
        if isinstance(item, dict) and "value" in item:  # span v2 attributes: {"type", "value"}
            item = item["value"]
        if isinstance(item, str):
            item = item[:MAX_DATA_TEXT]
        elif not isinstance(item, (int, float, bool)) or item is None:
            continue
        kept[str(key)[:100]] = item
    return storable(scrub(kept, scrub_keys) if scrub_keys is not None else kept)


def _span(
    raw: dict, *, description: Any, op: Any, status: Any, end: Any, data: Any, received_at: datetime, scrub_keys
) -> SpanIn | None:
    trace_id, span_id = _id(raw.get("trace_id"), _TRACE_ID), _id(raw.get("span_id"), _SPAN_ID)
    start_s, end_s = timestamp_seconds(raw.get("start_timestamp")), timestamp_seconds(end)
    if trace_id is None or span_id is None or start_s is None or end_s is None:
        return None
    if not 0 <= end_s - start_s <= MAX_SPAN_SECONDS:
        return None
    # A clock too far off moves the whole span to the receive time, keeping its length.
    moved = timestamp_within(start_s, received_at)
    text = _text(description, 1000)
    return SpanIn(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=_id(raw.get("parent_span_id"), _SPAN_ID) or "",
        op=_text(op, 64),
        description=scrub(text, scrub_keys) if scrub_keys is not None else text,
        status=_text(status, 32),
        start=moved,
        end=moved + timedelta(seconds=end_s - start_s),
        data=_data(data, scrub_keys),
    )


def transaction_trace(payload: Any, *, received_at: datetime, scrub_keys: list[str] | None) -> Trace:
    """A transaction item's root and child spans; empty if the root cannot be read."""
    trace = Trace()
    if not isinstance(payload, dict):
        return trace
    contexts = payload.get("contexts")
    root = contexts.get("trace") if isinstance(contexts, dict) else None
    name = _text(payload.get("transaction"), 200)
    if not isinstance(root, dict) or not name:
        return trace
    span = _span(
        {**root, "start_timestamp": payload.get("start_timestamp")},
        description=name,
        op=root.get("op"),
        status=root.get("status"),
        end=payload.get("timestamp"),
        data=root.get("data"),
        received_at=received_at,
        scrub_keys=scrub_keys,
    )
    children = payload.get("spans")
    children = children if isinstance(children, list) else []
    trace.over_limit += max(0, len(children) - MAX_SPANS_PER_ITEM)
    children = children[:MAX_SPANS_PER_ITEM]
    if span is None:
        trace.skipped += len(children)  # a child span is not drawn without the trace it is in
        return trace
    trace.spans.append(span)
    trace.transactions.append(
        TransactionIn(
            span=span,
            name=name,
            release=_text(payload.get("release"), 250),
            environment=_text(payload.get("environment"), 64),
        )
    )
    for raw in children:
        if not isinstance(raw, dict):
            trace.skipped += 1
            continue
        child = _span(
            {"trace_id": span.trace_id, **raw},
            description=raw.get("description"),
            op=raw.get("op"),
            status=raw.get("status"),
            end=raw.get("timestamp"),
            data=raw.get("data"),
            received_at=received_at,
            scrub_keys=scrub_keys,
        )
        if child is None:
            trace.skipped += 1
        else:
            trace.spans.append(child)
    return trace


def span_trace(payload: Any, *, received_at: datetime, scrub_keys: list[str] | None) -> Trace:
    """A span item's spans (v2 container, or one span as before it), its segments as transactions."""
    trace = Trace()
    if not isinstance(payload, dict):
        return trace
    raws = payload.get("items") if "items" in payload else [payload]
    for raw in raws[:MAX_SPANS_PER_ITEM] if isinstance(raws, list) else []:
        if not isinstance(raw, dict):
            continue
        # v2 names a span `name` and keeps op in attributes; the span JSON before it uses
        # description, op and timestamp.
        description = raw.get("name") or raw.get("description")
        span = _span(
            raw,
            description=description,
            op=raw.get("op") or span_attribute(raw, "sentry.op"),
            status=raw.get("status"),
            end=raw.get("end_timestamp", raw.get("timestamp")),
            data=raw.get("attributes") if isinstance(raw.get("attributes"), dict) else raw.get("data"),
            received_at=received_at,
            scrub_keys=scrub_keys,
        )
        segment = is_segment_span(raw)
        if span is None:
            trace.skipped += not segment  # the metrics count a segment they cannot read
            continue
        trace.spans.append(span)
        if segment:
            names = [description, *(span_attribute(raw, k) for k in SEGMENT_NAME_ATTRIBUTES)]
            name = next((_text(n, 200) for n in names if _text(n, 200)), "")
            if name:
                trace.transactions.append(
                    TransactionIn(
                        span=span,
                        name=name,
                        release=_text(span_attribute(raw, "sentry.release"), 250),
                        environment=_text(span_attribute(raw, "sentry.environment"), 64),
                    )
                )
    return trace
