"""Sentry's envelope format: a JSON header line, then items, each a JSON header line and a
payload of `length` bytes (or, without `length`, up to the next newline).

Parsing is forgiving in one direction only: everything before a structural break (a cut
off body, a length that does not match, an unreadable item header) is kept; from the
break on nothing can be trusted, so the rest counts as one dropped item.
"""

import json
from dataclasses import dataclass, field
from typing import Any


class EnvelopeError(ValueError):
    """The envelope header itself is unusable: nothing in the body can be attributed."""


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
        envelope.items.append(Item(type=headers["type"], headers=headers, payload=payload))
    return envelope
