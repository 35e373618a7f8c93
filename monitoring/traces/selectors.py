"""Reads: a transaction name's slowest traces, and one trace's spans laid out as a waterfall."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.errors.transactions import NOT_FAILED
from monitoring.models import Project
from monitoring.traces.models import Span, Transaction

# A page draws at most this many spans (two transaction or span items' worth); the rest of a
# bigger trace is counted, not drawn, so the page's cost stays bounded.
MAX_WATERFALL_SPANS = 2000
SLOWEST = 10
_TICK_STEPS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000)


def slowest_transactions(
    project: Project, *, name: str, window: timedelta, end: datetime | None = None, limit: int = SLOWEST
) -> list[Transaction]:
    """The name's longest transactions that started in the window, longest first: one query,
    by the (project, name, start) index."""
    end = end or timezone.now()
    return list(
        Transaction.objects.filter(project=project, name=name, start__gte=end - window, start__lt=end).order_by(
            "-duration", "-start"
        )[:limit]
    )


@dataclass(frozen=True)
class Row:
    span: Span
    depth: int
    offset_ms: float  # from the trace's first span
    left: float  # percent of the axis
    width: float  # percent of the axis, never under a sliver so an instant span still shows

    @property
    def failed(self) -> bool:
        return bool(self.span.status) and self.span.status not in NOT_FAILED


@dataclass(frozen=True)
class Waterfall:
    trace_id: str
    project: Project
    transactions: list[Transaction]
    rows: list[Row]
    total_ms: float
    ticks: list[tuple[float, float]]  # (ms, percent)
    more: int  # spans past MAX_WATERFALL_SPANS, not drawn


def _ticks(total_ms: float) -> list[tuple[float, float]]:
    step = next((s for s in _TICK_STEPS_MS if total_ms / s <= 8), _TICK_STEPS_MS[-1])
    span = max(total_ms, 1e-9)
    return [(i * step, i * step / span * 100) for i in range(int(total_ms // step) + 1)]


def _ordered(spans: list[Span]) -> list[tuple[Span, int]]:
    """Depth first, children by start under their parent; a span whose parent is not here (in
    another service's trace, or not sampled) is drawn as a root."""
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = {}
    roots = []
    for span in spans:  # already by start
        if span.parent_span_id and span.parent_span_id in ids and span.parent_span_id != span.span_id:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    out: list[tuple[Span, int]] = []
    seen: set[str] = set()
    stack = [(span, 0) for span in reversed(roots)]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a cycle in what a client sent
            continue
        seen.add(span.span_id)
        out.append((span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return out


def trace_waterfall(trace_id: str) -> Waterfall | None:
    """One trace's spans as rows of a waterfall (None if none is kept): two queries."""
    spans = list(
        Span.objects.filter(trace_id=trace_id)
        .select_related("project")
        .defer("data")  # not drawn; decoding 1,000 JSON values was a tenth of the page
        .order_by("start", "id")[: MAX_WATERFALL_SPANS + 1]
    )
    if not spans:
        return None
    more = 0
    if len(spans) > MAX_WATERFALL_SPANS:
        more = Span.objects.filter(trace_id=trace_id).count() - MAX_WATERFALL_SPANS
        spans = spans[:MAX_WATERFALL_SPANS]
    transactions = list(Transaction.objects.filter(trace_id=trace_id).order_by("start"))
    begin = spans[0].start
    total_ms = max((s.end - begin) / timedelta(milliseconds=1) for s in spans)
    scale = 100 / total_ms if total_ms > 0 else 0.0
    rows = []
    for span, depth in _ordered(spans):
        offset = (span.start - begin) / timedelta(milliseconds=1)
        rows.append(
            Row(
                span=span,
                depth=depth,
                offset_ms=offset,
                left=min(offset * scale, 99.5),
                width=max(span.duration * scale, 0.5),
            )
        )
    return Waterfall(
        trace_id=trace_id,
        project=spans[0].project,
        transactions=transactions,
        rows=rows,
        total_ms=total_ms,
        ticks=_ticks(total_ms),
        more=more,
    )
