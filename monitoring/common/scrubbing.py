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
    "password",
    "passwd",
    "pwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "session",
    "sessionid",
    "cookie",
    "csrftoken",
    "csrf",
    "xsrf",
    "authorization",
    "x_api_key",
    "x-api-key",
    "set-cookie",
    "dsn",
    "access_key",
    "secret_key",
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
_DIGITS = b"0123456789"


def _may_hold_bearer(text: str) -> bool:
    # Plain substring tests are a third of the regex's cost. Non-ASCII text goes to the
    # regex, whose case-insensitive match knows letters lower() does not map to ASCII.
    if not text.isascii():
        return True
    low = text.lower()
    return "bearer" in low or "token" in low or "basic" in low  # the words of _BEARER


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


class _Denylist:
    """The denied words as one alternation, checked with one regex search instead of a loop
    over some 25 words, and the verdict on each key remembered: an event repeats the same
    few hundred keys (frame fields, header names, tags), and a dict lookup costs a fraction
    of lower() and a search. Bounded, because keys are the sender's to choose."""

    MAX_KEYS = 10_000

    def __init__(self, words: tuple[str, ...]):
        self._pattern = re.compile("|".join(re.escape(word) for word in words if word))
        self._verdicts: dict[str, bool] = {}

    def denies(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) >= self.MAX_KEYS:
                self._verdicts.clear()
            verdict = self._verdicts[key] = self._pattern.search(key.lower()) is not None
        return verdict


@lru_cache(maxsize=64)
def _denylist(extra: tuple[str, ...]) -> _Denylist:
    return _Denylist((*DEFAULT_DENYLIST, *extra))


def _denylist_with(extra_keys: Iterable[str]) -> _Denylist:
    return _denylist(tuple(k.lower() for k in extra_keys))


def is_sensitive_key(key: str, extra_keys: Iterable[str] = ()) -> bool:
    return _denylist_with(extra_keys).denies(key)


def scrub(data: Any, extra_keys: Iterable[str] = ()) -> Any:
    """Return a copy of `data` with sensitive keys, bearer tokens and card numbers filtered."""
    return _scrub(data, _denylist_with(extra_keys))


def _scrub(data: Any, denied: _Denylist) -> Any:
    # Strings first: they are most of an event's leaves.
    if isinstance(data, str):
        return scrub_text(data)
    if isinstance(data, dict):
        return {
            k: FILTERED if isinstance(k, str) and denied.denies(k) and v not in (None, "") else _scrub(v, denied)
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        # Header lists come as [name, value] pairs.
        if len(data) == 2 and isinstance(data[0], str) and denied.denies(data[0]):
            return [data[0], FILTERED]
        return [_scrub(item, denied) for item in data]
    return data
