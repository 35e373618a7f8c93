"""A notification's message, frozen on its outbox row when the row is written.

The message says what the incident was at the event the row is about. Built again at send
time it would say what the incident is *now*: a worker killed mid-send, retried after the
incident resolved, sent the same idempotency key first as "firing" and then as "resolved",
and a receiver that honours the key dropped the resolve. So the rendered message (subject,
texts, alerts, receiver) is stored as JSON with the row, every attempt sends exactly it, and
the key is derived from it: one key, one body.
"""

import hashlib
import json
import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

from alerts.delivery.messages import AlertLine, Message


def message_freeze(message: Message) -> dict[str, Any]:
    """`message` (already rendered) as plain JSON, every field kept."""
    data = asdict(message)
    data["at"] = message.at.isoformat()
    data["alerts"] = [
        {
            **asdict(alert),
            "starts_at": alert.starts_at.isoformat(),
            "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
            # JSON (and PostgreSQL's jsonb) has no NaN or infinity; thawed back with float().
            "value": alert.value if alert.value is None or math.isfinite(alert.value) else repr(alert.value),
        }
        for alert in message.alerts
    ]
    return data


def message_thaw(data: dict[str, Any]) -> Message:
    """The message `message_freeze` stored, as it was: not rendered again, so a retry sends the same body."""
    alerts = tuple(
        AlertLine(
            **{
                **alert,
                "starts_at": datetime.fromisoformat(alert["starts_at"]),
                "ends_at": datetime.fromisoformat(alert["ends_at"]) if alert["ends_at"] else None,
                "value": float(alert["value"]) if isinstance(alert["value"], str) else alert["value"],
            }
        )
        for alert in data["alerts"]
    )
    return Message(**{**data, "at": datetime.fromisoformat(data["at"]), "alerts": alerts})


def payload_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of the frozen message in a canonical form (sorted keys), the same on every database."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
