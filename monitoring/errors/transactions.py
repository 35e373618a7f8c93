"""sentry-sdk's transaction items, read into metric points: duration and failure per
transaction name, so the metrics store's rollups give p50/p95 and failure rate, and alert
rules can use them. Pure; no database."""

import math
from datetime import datetime, timedelta
from typing import Any

from monitoring.errors.events import timestamp_within
from monitoring.telemetry.payloads import PointIn

DURATION = "transaction.duration"
# 1 for a failed transaction, 0 otherwise: the average over any window is the failure rate.
FAILED = "transaction.failed"
# Trace statuses that are not failures, as Sentry counts them.
NOT_FAILED = frozenset({"ok", "cancelled", "unknown"})


class InvalidTransaction(ValueError):
    pass


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def transaction_points(payload: Any, *, received_at: datetime, max_lateness: timedelta) -> list[PointIn]:
    """Two points for a finished transaction, at its end (or the receive time, if the end
    is further back than the metrics store accepts points)."""
    if not isinstance(payload, dict):
        raise InvalidTransaction("a transaction must be a JSON object")
    name = payload.get("transaction")
    if not isinstance(name, str) or not name.strip():
        raise InvalidTransaction("transaction (its name) is required")
    start, end = _seconds(payload.get("start_timestamp")), _seconds(payload.get("timestamp"))
    if start is None or end is None or end < start:
        raise InvalidTransaction("start_timestamp and timestamp must be times, the end not before the start")
    contexts = payload.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    status = trace.get("status") if isinstance(trace, dict) else None
    failed = isinstance(status, str) and status not in NOT_FAILED
    at = timestamp_within(end, received_at)
    if at < received_at - max_lateness:
        at = received_at
    tags = {"transaction": name.strip()[:200]}
    return [
        PointIn(name=DURATION, value=(end - start) * 1000, timestamp=at, tags=tags, unit="millisecond"),
        PointIn(name=FAILED, value=1.0 if failed else 0.0, timestamp=at, tags=tags),
    ]
