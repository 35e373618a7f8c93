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
# The password of a URL's userinfo (postgres://app:s3cr3t@db/app). The user name stays: it
# tells which account failed. Bounded repeats and the lookbehind keep a long run of letters
# or of "a://:" from costing quadratic time; the password is greedy up to the authority's
# last "@", so a password holding an unescaped "@" is masked whole.
_URL_CREDENTIALS = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:/?#@]{0,256}:)[^\s/?#]{1,256}@")
# A secret-looking name given a value, as code, config, logs and query strings write it:
# password = "hunter2", api_key: 'k', SECRET=x, ?token=abc.def.ghi, {"password": "p"}.
# No word boundary before the name (db_password, client_secret are names too), but none
# after it beyond _suffixes, so "tokenizer:" or "secretary:" are left alone. "==" is a
# comparison in code, not an assignment. "Authorization: Bearer [Filtered]" is already masked
# (_BEARER runs first) and keeps its scheme word.
_ASSIGNMENT = re.compile(
    r"((?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credentials?)"
    r"s?(?:[_-][A-Za-z0-9]+)*"
    r"\\?[\"']?[ \t]*(?:=>|=(?!=)|:(?!:))[ \t]*)"
    r"(?:(\\?\")[^\"\n]{1,1000}\"|(')[^'\n]{1,1000}'|(?!(?:bearer|basic|token)\s+\[Filtered\])(\\?[\"']?)[^\s\"'&;,<>()\[\]{}]+)",
    re.IGNORECASE,
)
# An IBAN, compact or printed in groups of four; its country's length and the mod-97 check
# confirm it, so codes that merely look alike are left alone. Upper case only, as IBANs are
# written: lower-case hex ids (trace and span ids) would otherwise pass now and then.
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2})[0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
)
_IBAN_HINT = re.compile(r"[A-Z]{2}[0-9]{2}")
# IBAN lengths by country, from the SWIFT IBAN registry.
IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FK", "FO", "GL", "NL", "SD"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "MN", "XK"], 20),
    **dict.fromkeys(["CH", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "IQ", "OM", "SO", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["LY", "PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["BI", "DJ", "FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HN", "HU", "LB", "NI", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU", "YE"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
    **dict.fromkeys(["RU"], 33),
}


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


def _mask_url_credentials(match: re.Match) -> str:
    return f"{match.group(1)}{FILTERED}@"


def _mask_assignment(match: re.Match) -> str:
    name, double, single, bare = match.group(1, 2, 3, 4)
    quote = double if double is not None else single if single is not None else bare
    # An escaped opening quote (\" inside a JSON string) was closed the same way.
    closing = quote if double is not None or single is not None else ""
    return f"{name}{quote}{FILTERED}{closing}"


def _iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _mask_iban(match: re.Match) -> str:
    text = match.group(0)
    length = IBAN_LENGTHS.get(match.group(1))
    compact = text.replace(" ", "")
    if length is None or len(compact) < length or (len(compact) > length and " " not in text):
        return text
    if not _iban_ok(compact[:length]):
        return text
    # Printed in groups, a following word of four capitals ("… 7034 EURO") can join the
    # match: mask only the IBAN's own characters and give back the rest.
    end, seen = 0, 0
    while seen < length:
        seen += text[end] != " "
        end += 1
    return FILTERED + text[end:]


# The shortest text any pattern can match ("pwd=x"): shorter strings, common in an event,
# skip every regex. The others have their own minimum lengths.
_SHORTEST_SECRET = 5
_SHORTEST_BEARER = 14  # "basic " and 8 characters
_CARD_DIGITS = 13
_SHORTEST_IBAN = 15
_DIGITS = b"0123456789"


def _may_hold_card(text: str) -> bool:
    # Counting digits in bytes is done in C at memory speed; the card regex walks every
    # character. Fewer than 13 digits cannot be a card number.
    if not text.isascii():
        return True
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _DIGITS)) >= _CARD_DIGITS


def scrub_text(text: str) -> str:
    size = len(text)
    if size < _SHORTEST_SECRET:
        return text
    # Plain substring tests on one lower-cased copy cost a fraction of the regexes. Non-ASCII
    # text goes to the case-insensitive regexes, which know letters lower() does not map to
    # ASCII ("ſecret" matches). Masking only ever removes words or adds "[Filtered]", so the
    # copy taken before any masking still tells every pattern that might match after it.
    plain = text.isascii()
    low = text.lower() if plain else ""
    capitals = not plain or low != text
    # The URL pattern's only literals; no case folding involved, so exact for any text.
    if "://" in text and "@" in text:
        text = _URL_CREDENTIALS.sub(_mask_url_credentials, text)
    # Bearer before assignments: in "token: Bearer abc…" the assignment alone would mask
    # only the word "Bearer" and keep the token.
    if size >= _SHORTEST_BEARER and (not plain or "bearer" in low or "token" in low or "basic" in low):
        text = _BEARER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    if ("=" in text or ":" in text) and (
        not plain
        # The words of _ASSIGNMENT, spelled out: a generator over them costs more than the tests.
        or "passw" in low
        or "pwd" in low
        or "secret" in low
        or "token" in low
        or "key" in low
        or "authorization" in low
        or "credential" in low
    ):
        text = _ASSIGNMENT.sub(_mask_assignment, text)
    if size >= _CARD_DIGITS and _may_hold_card(text):
        text = _CARD.sub(_mask_card, text)
    # An IBAN has capitals: ASCII text equal to its lower case has none. Otherwise the hint,
    # which starts with a character class the regex engine scans for in C (the full pattern's
    # lookbehind keeps it from doing so).
    if size >= _SHORTEST_IBAN and capitals and _IBAN_HINT.search(text) is not None:
        text = _IBAN.sub(_mask_iban, text)
    return text


# What a header, cookie or tag name looks like.
_PAIR_NAME = re.compile(r"[\w.-]+\Z")


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
    """Return a copy of `data` with sensitive keys filtered, and in every string: URL passwords,
    bearer tokens, secret assignments (password=…), card numbers and IBANs."""
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
        # Header lists come as [name, value] pairs. Only a name-like first item makes a
        # pair: two source lines, ["SECRET=abc", "connect()"], are text to scrub, not a
        # name to keep verbatim with its neighbour filtered.
        if len(data) == 2 and isinstance(data[0], str) and denied.denies(data[0]) and _PAIR_NAME.match(data[0]):
            return [data[0], FILTERED]
        return [_scrub(item, denied) for item in data]
    return data
