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

# After "token" or "basic", a plain word ("token validation failed", "Basic Authentication.")
# is prose, not a credential; after "bearer" anything is one.
_BEARER = re.compile(
    r"\b(?:(bearer)|(token|basic)(?=\s+(?-i:(?![a-z]+[.,:;!?]*(?:\s|$)|[A-Z][a-z]+[.,:;!?]*(?:\s|$)))))"
    r"\s+[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE,
)
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
# An IBAN, compact or printed in groups of four, in either case; its country's length and the
# mod-97 check confirm it, so codes that merely look alike are left alone.
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2})[0-9]{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?![A-Za-z0-9])"
)
# Two letters and two digits, found from the digits: the regex engine scans for a leading
# character class in C, and digits are rarer than letters.
_IBAN_HINT = re.compile(r"[0-9](?<=[A-Za-z]{2}[0-9])[0-9]")
# A whole string of 16 or 32 lower-case hex digits is a span, trace or event id; one in 97 of
# those starting "be12" would pass a Belgian IBAN's check. Within text, such a run is masked.
_HEX_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
# A secret told in words, as log lines and messages put it: "the password is hunter2",
# "token was 'abc-123'". Only a quoted value or one that holds a digit or a symbol counts, so
# "password is required" and "token is expired" are left alone.
_PHRASE = re.compile(
    r"((?:passw(?:or)?d|passphrase|passcode|pwd|secret|token|api[ _-]?key|access[ _-]?key)s?(?:[_-][A-Za-z0-9]+)*"
    r"[ \t]+(?:is|was|will be)[ \t]+)"
    r"(?:(\")[^\"\n]{1,1000}\"|(')[^'\n]{1,1000}'|(?=[^\s\"'<>(){}\[\],;]*[0-9!#$%*+/=?@^_~|])[^\s\"'<>(){}\[\],;]{4,1000})",
    re.IGNORECASE,
)
# Credentials whose shape names them wherever they appear, with no name before them: JSON web
# tokens, AWS access key ids, GitHub, Slack and Stripe tokens.
_KNOWN_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,})"
)
# Their fixed parts, found from a rare character as _IBAN_HINT is.
_KNOWN_TOKEN_HINT = re.compile(
    r"[JI_-](?:(?<=eyJ)|(?<=AKI)A|(?<=ASI)A|(?<=gh[pousr]_)|(?<=github_pat_)|(?<=xox[abprs]-)|(?<=k_live_)|(?<=k_test_))"
)
# The armour around a PEM private key; everything between BEGIN and END goes.
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")

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


def _mask_bearer(match: re.Match) -> str:
    return f"{match.group(1) or match.group(2)} {FILTERED}"


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


def _mask_phrase(match: re.Match) -> str:
    quote = next((q for q in match.group(2, 3) if q is not None), "")
    return f"{match.group(1)}{quote}{FILTERED}{quote}"


def _mask_private_keys(text: str) -> str:
    # A scan with find() rather than one regex: a BEGIN with no END would make a lazy
    # "BEGIN.*?END" walk to the end of the text from every BEGIN, quadratic on hostile text.
    parts, position = [], 0
    while (begin := _PEM_BEGIN.search(text, position)) is not None:
        parts += [text[position : begin.end()], FILTERED]
        position = text.find("-----END", begin.end())
        if position < 0:  # cut off: the rest of the text is the key
            return "".join(parts)
    parts.append(text[position:])
    return "".join(parts)


def _mask_iban(match: re.Match) -> str:
    text = match.group(0)
    length = IBAN_LENGTHS.get(match.group(1).upper())
    compact = text.replace(" ", "").upper()
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
_SHORTEST_TOKEN = 20  # AKIA and 16 characters
_DIGITS = b"0123456789"


def _digit_count(text: str) -> int:
    # Counting digits in bytes is done in C at memory speed; the card and IBAN regexes walk
    # every character. Non-ASCII text may hold digits of other scripts: count it as many.
    if not text.isascii():
        return len(text)
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _DIGITS))


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
    # The URL pattern's only literals; no case folding involved, so exact for any text.
    if "://" in text and "@" in text:
        text = _URL_CREDENTIALS.sub(_mask_url_credentials, text)
    # Bearer before assignments: in "token: Bearer abc…" the assignment alone would mask
    # only the word "Bearer" and keep the token.
    if size >= _SHORTEST_BEARER and (not plain or "bearer" in low or "token" in low or "basic" in low):
        text = _BEARER.sub(_mask_bearer, text)
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
    if not plain or (
        (" is " in low or " was " in low or " be " in low)
        and ("pass" in low or "pwd" in low or "secret" in low or "token" in low or "key" in low)
    ):
        text = _PHRASE.sub(_mask_phrase, text)
    if size >= _SHORTEST_TOKEN and _KNOWN_TOKEN_HINT.search(text) is not None:
        text = _KNOWN_TOKEN.sub(FILTERED, text)
    if "PRIVATE KEY-----" in text:
        text = _mask_private_keys(text)
    digits = _digit_count(text) if size >= _CARD_DIGITS else 0
    if digits >= _CARD_DIGITS:
        text = _CARD.sub(_mask_card, text)
    if (
        size >= _SHORTEST_IBAN
        and digits >= 2
        and _IBAN_HINT.search(text) is not None
        and _HEX_ID.fullmatch(text) is None
    ):
        text = _IBAN.sub(_mask_iban, text)
    return text


# What a header, cookie or tag name looks like.
_PAIR_NAME = re.compile(r"[\w.-]+\Z")


class _Denylist:
    """The denied words as one alternation, checked with one regex search instead of a loop
    over some 25 words, and the verdict on each key remembered: an event repeats the same
    few hundred keys (frame fields, header names, tags), and a dict lookup costs a fraction
    of lower() and a search. Bounded, because keys are the sender's to choose.

    A key's own text is scrubbed once, with its verdict; the few that change are kept in
    `renamed`, so a dict none of whose keys changes is copied by the fast path alone."""

    MAX_KEYS = 10_000

    def __init__(self, words: tuple[str, ...]):
        self._pattern = re.compile("|".join(re.escape(word) for word in words if word))
        self._verdicts: dict[str, bool] = {}
        self.renamed: dict[str, str] = {}

    def denies(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) >= self.MAX_KEYS:
                self._verdicts.clear()
                self.renamed.clear()
            verdict = self._verdicts[key] = self._pattern.search(key.lower()) is not None
            name = scrub_text(key)
            if name != key:
                self.renamed[key] = name
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


def _scrub_keeping_every_key(data: dict, denied: _Denylist) -> dict:
    # A key can hold a secret too ({"postgres://app:pw@db": pool}); two keys that scrub to the
    # same text keep both values.
    scrubbed: dict = {}
    for k, v in data.items():
        deny = isinstance(k, str) and denied.denies(k)
        name = denied.renamed.get(k, k) if isinstance(k, str) else k
        while name != k and name in scrubbed:
            name += "'"
        scrubbed[name] = FILTERED if deny and v not in (None, "") else _scrub(v, denied)
    return scrubbed


def _scrub(data: Any, denied: _Denylist) -> Any:
    # Strings first: they are most of an event's leaves.
    if isinstance(data, str):
        return scrub_text(data)
    if isinstance(data, dict):
        scrubbed = {
            k: FILTERED if isinstance(k, str) and denied.denies(k) and v not in (None, "") else _scrub(v, denied)
            for k, v in data.items()
        }
        if denied.renamed and not denied.renamed.keys().isdisjoint(data):
            scrubbed = _scrub_keeping_every_key(data, denied)
        # A name and its value as separate fields, as form fields, settings and GraphQL
        # variables list them: {"name": "password", "value": "hunter2"}.
        if "value" in scrubbed and scrubbed["value"] not in (None, "", FILTERED):
            label = data.get("name", data.get("key"))
            if isinstance(label, str) and denied.denies(label):
                scrubbed["value"] = FILTERED
        return scrubbed
    if isinstance(data, (list, tuple)):
        # Header lists come as [name, value] pairs. Only a name-like first item makes a
        # pair: two source lines, ["SECRET=abc", "connect()"], are text to scrub, not a
        # name to keep verbatim with its neighbour filtered.
        if len(data) == 2 and isinstance(data[0], str) and denied.denies(data[0]) and _PAIR_NAME.match(data[0]):
            return [data[0], FILTERED]
        return [_scrub(item, denied) for item in data]
    return data
