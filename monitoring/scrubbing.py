"""Removing secrets from data before it is stored or sent anywhere.

Pure functions, no Django: the portal's own Sentry client uses them at settings time, and
event ingestion uses them on every stored event.
"""

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

FILTERED = "[Filtered]"

# Sentry's default denylist of field names, matched as substrings of the lower-cased key.
DEFAULT_DENYLIST = (
    "password", "passwd", "pwd", "secret", "api_key", "apikey", "auth", "credentials",
    "mysql_pwd", "privatekey", "private_key", "token", "session", "sessionid", "cookie",
    "csrftoken", "csrf", "xsrf", "authorization", "x_api_key", "x-api-key", "set-cookie",
    "dsn", "access_key", "secret_key",
)

_BEARER = re.compile(r"\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
# 13 to 19 digits, optionally grouped by spaces or dashes; confirmed with the Luhn sum.
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return FILTERED if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


# The shortest text either pattern can match ("basic " and 8 characters; 13 digits): most
# strings of an event are shorter and skip both regexes.
_SHORTEST_SECRET = 13
_BEARER_WORDS = ("bearer", "token", "basic")
_DIGITS = b"0123456789"


def _may_hold_bearer(text: str) -> bool:
    # Plain substring tests are a third of the regex's cost. Non-ASCII text goes to the
    # regex, whose case-insensitive match knows letters lower() does not map to ASCII.
    if not text.isascii():
        return True
    low = text.lower()
    return any(word in low for word in _BEARER_WORDS)


def _may_hold_card(text: str) -> bool:
    # Counting digits in bytes is done in C at memory speed; the card regex walks every
    # character. Fewer than 13 digits cannot be a card number.
    if not text.isascii():
        return True
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _DIGITS)) >= _SHORTEST_SECRET


def scrub_text(text: str) -> str:
    if len(text) < _SHORTEST_SECRET:
        return text
    if _may_hold_bearer(text):
        text = _BEARER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    return _CARD.sub(_mask_card, text) if _may_hold_card(text) else text


@lru_cache(maxsize=64)
def _key_pattern(extra: tuple[str, ...]) -> re.Pattern:
    """One alternation of every denied word: a key is checked with one regex search instead
    of a loop over some 25 words, which was the largest cost of storing an event."""
    return re.compile("|".join(re.escape(word) for word in (*DEFAULT_DENYLIST, *extra) if word))


def is_sensitive_key(key: str, extra_keys: Iterable[str] = ()) -> bool:
    return _key_pattern(tuple(k.lower() for k in extra_keys)).search(key.lower()) is not None


def scrub(data: Any, extra_keys: Iterable[str] = ()) -> Any:
    """Return a copy of `data` with sensitive keys, bearer tokens and card numbers filtered."""
    return _scrub(data, _key_pattern(tuple(k.lower() for k in extra_keys)))


def _scrub(data: Any, denied: re.Pattern) -> Any:
    if isinstance(data, dict):
        return {
            k: FILTERED if isinstance(k, str) and denied.search(k.lower()) and v not in (None, "")
            else _scrub(v, denied)
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        # Header lists come as [name, value] pairs.
        if len(data) == 2 and isinstance(data[0], str) and denied.search(data[0].lower()):
            return [data[0], FILTERED]
        return [_scrub(item, denied) for item in data]
    if isinstance(data, str):
        return scrub_text(data)
    return data
