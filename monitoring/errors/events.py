"""From an SDK's event JSON to what is stored: checked ids and times, the issue's labels,
the grouping hash, all computed on the privatised payload. Pure; no database."""

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring.errors import fingerprints as grouping

LEVELS = frozenset({"debug", "info", "warning", "error", "fatal"})
# An event's own clock is trusted within these bounds of the receive time, as Sentry does;
# outside them the receive time stands in (it also keeps day partitions near today).
MAX_PAST = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=1)


class InvalidEvent(ValueError):
    pass


@dataclass(frozen=True)
class PreparedEvent:
    event_id: uuid.UUID
    timestamp: datetime
    level: str
    release: str
    environment: str
    user_hash: str
    title: str
    culprit: str
    type: str
    grouping: grouping.Grouping
    payload: dict[str, Any]


# NUL and lone surrogates are valid in JSON text but PostgreSQL's jsonb refuses them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# How json.dumps (ASCII output) writes those, NaN and the infinities. Text that merely looks
# like them (a message saying "NaN") only sends the event down the slower walk.
_UNSTORABLE_JSON = re.compile(r"\\u0000|\\ud[89a-f]|NaN|Infinity")


def _storable_event(event: dict[str, Any]) -> dict[str, Any]:
    """`event` as storable() makes it, without walking it in Python when one C-speed scan
    of its JSON shows nothing to replace (nearly always: it is a few milliseconds per event)."""
    try:
        clean = _UNSTORABLE_JSON.search(json.dumps(event)) is None
    except (TypeError, ValueError):
        clean = False
    return event if clean else storable(event)


def storable(value: Any) -> Any:
    """`value` with what a JSON column cannot hold replaced: NUL, lone surrogates, NaN and infinities."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _event_id(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent("event_id must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidEvent("event_id is not a valid UUID") from exc


def timestamp_within(value: Any, received_at: datetime) -> datetime:
    """The client's time for something it sent, if believable, else the receive time."""
    parsed = None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parsed = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        parsed = None
    if parsed is None or not (received_at - MAX_PAST <= parsed <= received_at + MAX_FUTURE):
        return received_at
    return parsed


def _short(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def user_hash(user: Any) -> str:
    """Who was affected, as a stable digest of the first identifier the SDK sent."""
    if not isinstance(user, dict):
        return ""
    for field in ("id", "email", "username", "ip_address"):
        value = user.get(field)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return hashlib.sha256(f"{field}:{value}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return ""


def _labels(event: dict[str, Any]) -> tuple[str, str, str]:
    """Title, culprit and exception type, as the issue stream shows them."""
    chain = grouping.exceptions(event)
    top = chain[-1] if chain else None
    kind = _short(top.get("type"), 200) if top else ""
    if top:
        value = _short(top.get("value"), 1000).strip().split("\n", 1)[0]
        title = f"{kind}: {value}" if kind and value else kind or value
    else:
        title = ""
    if not title:
        logentry = event.get("logentry")
        formatted = logentry.get("formatted") if isinstance(logentry, dict) else None
        title = (formatted if isinstance(formatted, str) else "") or grouping.message_template(event)
        title = title.strip().split("\n", 1)[0]
    culprit = _short(event.get("transaction"), 500) or _short(event.get("culprit"), 500)
    if not culprit and top:
        stack = grouping.frames(top)
        in_app = [f for f in stack if f.get("in_app") is True] or stack
        if in_app:
            frame = in_app[-1]
            where = _short(frame.get("module"), 250) or _short(frame.get("filename"), 250)
            culprit = f"{where} in {_short(frame.get('function'), 200)}" if where else ""
    return (title or "<unlabeled event>")[:500], culprit[:500], kind


def event_prepare(event: Any, *, received_at: datetime, event_id: str | None = None) -> PreparedEvent:
    """`event` already privatised. `event_id` is the envelope's, used if the event has none."""
    if not isinstance(event, dict):
        raise InvalidEvent("an event must be a JSON object")
    event = _storable_event(event)
    parsed_id = _event_id(event.get("event_id")) or _event_id(event_id) or uuid.uuid4()
    level = event.get("level")
    title, culprit, kind = _labels(event)
    return PreparedEvent(
        event_id=parsed_id,
        timestamp=timestamp_within(event.get("timestamp"), received_at),
        level=level if isinstance(level, str) and level in LEVELS else "error",
        release=_short(event.get("release"), 250).strip(),
        environment=_short(event.get("environment"), 64).strip(),
        user_hash=user_hash(event.get("user")),
        title=title,
        culprit=culprit,
        type=kind,
        grouping=grouping.group(event),
        payload={**event, "event_id": parsed_id.hex},
    )
