"""Sentry's envelope format: a JSON header line, then items, each a JSON header line and a
payload of `length` bytes (or, without `length`, up to the next newline).

Parsing is forgiving in one direction only: everything before a structural break (a cut
off body, a length that does not match, an unreadable item header) is kept; from the
break on nothing can be trusted, so the rest counts as one dropped item.

An envelope carries what Sentry's protocol lets it carry (Relay refuses the rest): at most
one item that makes an event (an error, a transaction, a security report, a feedback), at
most MAX_SESSIONS session updates or aggregates, MAX_SPANS spans, a few check-ins and user
reports (MAX_OF_TYPE), and MAX_ITEMS items in all. An envelope past these is refused
whole, with the bound it broke, before anything of it is stored: that bounds the work of
one request, which must end well inside the web worker's timeout
(tests/benchmarks/test_envelope_bounds.py measures the slowest allowed).
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Relay's limits: one event-making item per envelope, `max_session_count`, and the span
# container's 1000 spans. Items in all: room for the sessions and an event's attachments.
MAX_ITEMS = 200
MAX_SESSIONS = 100
MAX_SPANS = 1000
EVENT_ITEMS = frozenset({"event", "transaction", "security", "raw_security", "feedback"})
# Items that each cost a few database round trips (a check-in updates its monitor, ~85 ms
# under load): SDKs send one an envelope, and these bounds keep the slowest envelope the
# protocol allows under a tenth of the worker timeout.
MAX_OF_TYPE = {"check_in": 10, "user_report": 10}
# Items that carry no data of the project's (the SDK's own counts): free of the rate limit.
UNCOUNTED_ITEMS = frozenset({"client_report"})


class EnvelopeError(ValueError):
    """The envelope header itself is unusable: nothing in the body can be attributed."""


class EnvelopeTooBig(EnvelopeError):
    """The envelope holds more than the protocol allows; the message names the bound."""


@dataclass(frozen=True)
class Item:
    type: str
    headers: dict[str, Any]
    payload: bytes

    def json(self) -> Any:
        """The payload as JSON; ValueError if it is not (UnicodeDecodeError is one)."""
        return json.loads(self.payload)


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    # Why parsing stopped early, or "" if the whole body was read.
    broken: str = ""


def parse_header(line: bytes) -> dict[str, Any]:
    try:
        headers = json.loads(line) if line.strip() else None
    except (ValueError, RecursionError) as exc:
        raise EnvelopeError(f"envelope header is not JSON: {exc}") from exc
    if not isinstance(headers, dict):
        raise EnvelopeError("envelope header must be a JSON object")
    return headers


def _item_header(line: bytes) -> dict[str, Any] | None:
    try:
        headers = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(headers, dict) or not isinstance(headers.get("type"), str):
        return None
    return headers


def parse(data: bytes) -> Envelope:
    """The envelope's items; EnvelopeTooBig past MAX_ITEMS, read no further than that."""
    newline = data.find(b"\n")
    head, pos = (data, len(data)) if newline < 0 else (data[:newline], newline + 1)
    envelope = Envelope(headers=parse_header(head))
    end = len(data)
    while pos < end:
        if data[pos] == 0x0A:  # blank lines between items are tolerated
            pos += 1
            continue
        newline = data.find(b"\n", pos)
        line_end = end if newline < 0 else newline
        headers = _item_header(data[pos:line_end])
        if headers is None:
            envelope.broken = "invalid item header"
            break
        pos = min(line_end + 1, end)
        length = headers.get("length")
        if length is None:
            newline = data.find(b"\n", pos)
            payload_end = end if newline < 0 else newline
            payload, pos = data[pos:payload_end], payload_end + 1
        elif isinstance(length, int) and not isinstance(length, bool) and length >= 0:
            if pos + length > end:
                envelope.broken = "truncated item"
                break
            payload, pos = data[pos : pos + length], pos + length
            if pos < end and data[pos] != 0x0A:
                envelope.broken = "item length does not match its payload"
                break
            pos += 1
        else:
            envelope.broken = "invalid item length"
            break
        if len(envelope.items) == MAX_ITEMS:
            raise EnvelopeTooBig(f"envelope holds more than {MAX_ITEMS} items")
        envelope.items.append(Item(type=headers["type"], headers=headers, payload=payload))
    return envelope


def _entries(item: Item, key: str) -> int:
    """How many entries an item's JSON holds under `key` (a list), one if not a container.
    An unreadable payload counts one: ingest drops it as invalid, item by item."""
    try:
        payload = item.json()
    except (ValueError, RecursionError):
        return 1
    entries = payload.get(key) if isinstance(payload, dict) else None
    return len(entries) if isinstance(entries, list) else 1


def envelope_weight(envelope: Envelope) -> int:
    """How many things of the project's the envelope carries (events, transactions,
    sessions, spans, check-ins, attachments…), which is what the rate limit counts.
    EnvelopeTooBig, naming the bound, when it carries more than the protocol allows."""
    events = sessions = spans = weight = 0
    of_type: Counter[str] = Counter()
    for item in envelope.items:
        if item.type in UNCOUNTED_ITEMS:
            continue
        count = 1
        if item.type in EVENT_ITEMS:
            events += 1
        elif item.type == "sessions":
            count = _entries(item, "aggregates")
            sessions += count
        elif item.type == "session":
            sessions += 1
        elif item.type == "span":
            # Counted from the payload, not the item_count header, which a client may understate.
            count = _entries(item, "items")
            spans += count
        weight += count
        of_type[item.type] += 1
    for type_, limit in MAX_OF_TYPE.items():
        if of_type[type_] > limit:
            raise EnvelopeTooBig(f"envelope holds {of_type[type_]} {type_} items; at most {limit} are allowed")
    if events > 1:
        raise EnvelopeTooBig(
            f"envelope holds {events} event items (event, transaction, security, feedback); at most 1 is allowed"
        )
    if sessions > MAX_SESSIONS:
        raise EnvelopeTooBig(f"envelope holds {sessions} sessions; at most {MAX_SESSIONS} are allowed")
    if spans > MAX_SPANS:
        raise EnvelopeTooBig(f"envelope holds {spans} spans; at most {MAX_SPANS} are allowed")
    return weight
