"""Reading telemetry request bodies into points, with an error per item and field.

Every endpoint takes one object or a batch (a JSON array, or an object holding the array
under the endpoint's plural name). Each item becomes one `PointIn`. Bodies arrive as
`text/plain` from `navigator.sendBeacon`, so they are parsed from bytes; the view refuses
other content types than that and JSON.

Whatever is accepted here must be storable and aggregatable: a value the rollups cannot
sum, or a string the database cannot hold (a NUL, a lone surrogate, more characters than
its column), is refused here with the field named, never left for the database to refuse
(that would read as an outage) or for a rollup to choke on (that would stop every
project's rollups).
"""

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from monitoring.common.validators import unknown_fields

# Matched whole (fullmatch): with `$`, a trailing newline would slip into a stored name.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,199}")
TAG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_TAGS = 20
MAX_TAG_VALUE = 200  # MetricTagValue.value's column
# Characters no column can store: PostgreSQL text refuses NUL, and a lone surrogate
# (JSON's "\ud800") is not Unicode, so it cannot be encoded to UTF-8 for any database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# The largest magnitude a value may have: 1e20. Every aggregate must stay finite, or
# PostgreSQL fails the whole rollup statement ("value out of range: overflow") and with it
# every project's rollups. A float holds 1.8e308. The sums that get largest are a query's
# (every point of up to 10,000 series over 400 days of hour rollups): even 1e20 points at
# the bound sum to 1e40 per series and 1e44 over all series, far inside a float, with
# room for products of two such sums (1e88). The bound also keeps the histogram's bucket
# midpoints finite (exp() of the top bucket overflows near 1.8e308) and its bucket lists
# short. 1e20 is above every real measurement (a hundred exabytes in bytes; a century in
# nanoseconds is 3e18), so it refuses only mistakes and attacks.
MAX_ABS_VALUE = 1e20

# Web Vitals the `web-vitals` library reports; CLS has no unit, the others are ms.
VITALS = {"CLS": "", "INP": "ms", "FID": "ms", "FCP": "ms", "LCP": "ms", "TTFB": "ms", "TTI": "ms"}
RATINGS = {"good", "needs-improvement", "poor"}
DEVICES = {"mobile", "tablet", "desktop"}
CONNECTION = re.compile(r"^[a-z0-9-]{1,16}$")
KINDS = ("counter", "gauge", "distribution")

# The fields each endpoint's items may have; any other is refused, naming it (strict inputs:
# a misspelt field must not be dropped without a word). Vitals take every field of the
# web-vitals library's Metric object (`entries` and `attribution` are read by nobody here).
FIELDS = {
    "points": frozenset({"name", "value", "unit", "tags", "type", "timestamp"}),
    "events": frozenset({"action", "duration", "metadata", "timestamp"}),
    "vitals": frozenset(
        {"name", "value", "rating", "delta", "id", "navigationType", "entries", "attribution"}
        | {"url", "route", "device", "connection", "timestamp"}
    ),
}


def tag_field(plural: str, key: str | None = None) -> str:
    """The body field a point's tag `key` (or, with no key, its tags) came from, so a refusal
    about a tag names what the client sent: an event's tags are its `metadata` and `action`,
    a vital's its `route`, `device` and `connection`, a metric point's its `tags`."""
    if plural == "events":
        return "action" if key == "action" else "metadata" + (f".{key}" if key else "")
    if plural == "vitals":
        return key or "route"
    return "tags" + (f".{key}" if key else "")


class PointIn(NamedTuple):
    # A tuple rather than a frozen dataclass: a batch makes thousands, and this is cheaper.
    name: str
    value: float
    timestamp: datetime
    tags: dict[str, str] = {}  # never mutated: each point gets its own dict from _tags()
    kind: str = "distribution"
    unit: str = ""


@dataclass(frozen=True)
class Window:
    """When a batch arrived and the range of timestamps it may carry, worked out once."""

    now: datetime
    oldest: datetime
    newest: datetime
    # Tag sets already checked in this batch: most points repeat a few of them.
    checked_tags: dict = field(default_factory=dict, compare=False)

    @classmethod
    def starting_now(cls) -> "Window":
        now = timezone.now()
        return cls(
            now=now,
            oldest=now - timedelta(seconds=settings.TELEMETRY_MAX_LATENESS_SECONDS),
            newest=now + timedelta(seconds=settings.TELEMETRY_MAX_FUTURE_SECONDS),
        )


class PayloadError(ValueError):
    """The body cannot be used; `errors` maps 'points[3].value' style paths to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))
        self.errors = errors


class Invalid(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def parse_body(body: bytes, *, plural: str, item: Callable[[dict, Window], PointIn]) -> list[PointIn]:
    """All items of a body, or PayloadError listing every bad item: batches are all or
    nothing, so a client that gets 400 knows none of its batch was stored."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError({"body": f"malformed JSON: {exc}"}) from None
    except RecursionError:
        # The parser recurses once per level and stops near sys.getrecursionlimit();
        # no item needs more than four levels, so the body is refused, not the process.
        raise PayloadError({"body": "nested too deeply; an item needs at most four levels of [] and {}"}) from None
    single = isinstance(data, dict) and plural not in data
    if isinstance(data, dict) and not single and (unknown := unknown_fields(data, {plural})):
        raise PayloadError(unknown)
    items = [data] if single else data.get(plural) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PayloadError({plural: f'expected an object, a JSON array of them, or {{"{plural}": [...]}}'})
    if not items:
        raise PayloadError({plural: "the batch is empty"})
    if len(items) > settings.TELEMETRY_MAX_BATCH:
        raise PayloadError(
            {plural: f"a batch of {len(items)} items is over the limit of {settings.TELEMETRY_MAX_BATCH}"}
        )
    window = Window.starting_now()
    points, errors = [], {}
    for index, raw in enumerate(items):
        where = "" if single else f"{plural}[{index}]."
        if not isinstance(raw, dict):
            errors[where.rstrip(".") or plural] = "expected a JSON object"
            continue
        if unknown := unknown_fields(raw, FIELDS[plural], where=where):
            errors.update(unknown)
            continue
        try:
            points.append(item(raw, window))
        except Invalid as exc:
            errors[f"{where}{exc.field}"] = str(exc)
    if errors:
        raise PayloadError(errors)
    return points


def vital(raw: dict, window: Window) -> PointIn:
    name = raw.get("name")
    if not isinstance(name, str) or name not in VITALS:
        # Not the value's repr: it may be a list nested deep enough to break repr().
        raise Invalid("name", f"unknown vital; expected one of {', '.join(VITALS)}")
    value = _number(raw, "value", minimum=0)
    if "delta" in raw:
        _number(raw, "delta")
    rating = raw.get("rating")
    if rating is not None and (not isinstance(rating, str) or rating not in RATINGS):
        raise Invalid("rating", f"expected one of {', '.join(sorted(RATINGS))}")
    url = _text(raw, "url", limit=2000)
    route = _text(raw, "route", limit=MAX_TAG_VALUE) or _path(url) or "/"
    tags = {"route": route}
    device = _text(raw, "device", limit=16)
    if device:
        if device not in DEVICES:
            raise Invalid("device", f"expected one of {', '.join(sorted(DEVICES))}")
        tags["device"] = device
    connection = _text(raw, "connection", limit=16)
    if connection:
        if not CONNECTION.match(connection):
            raise Invalid("connection", "expected an effective connection type such as '4g'")
        tags["connection"] = connection
    return PointIn(name=f"vitals.{name}", value=value, timestamp=_timestamp(raw, window), tags=tags, unit=VITALS[name])


def metric(raw: dict, window: Window) -> PointIn:
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid("name", "expected a name of letters, digits and _ . : / - (at most 200)")
    kind = raw.get("type", "distribution")
    if kind not in KINDS:
        raise Invalid("type", f"expected one of {', '.join(KINDS)}")
    return PointIn(
        name=name,
        value=_number(raw, "value"),
        timestamp=_timestamp(raw, window),
        tags=_checked_tags(raw.get("tags"), window),
        kind=kind,
        unit=_text(raw, "unit", limit=32),
    )


def event(raw: dict, window: Window) -> PointIn:
    """A user action or feature use: one point of the `actions` series tagged with the
    action, valued by its duration in ms (0 when it has none, so counts still work)."""
    action = _text(raw, "action", limit=MAX_TAG_VALUE)
    if not action:
        raise Invalid("action", "expected the action's name")
    duration = _number(raw, "duration", minimum=0) if raw.get("duration") is not None else 0.0
    tags = _tags(raw.get("metadata"), "metadata", limit=MAX_TAGS - 1)
    if "action" in tags:
        raise Invalid("metadata.action", "'action' is reserved for the action's name")
    return PointIn(
        name="actions", value=duration, timestamp=_timestamp(raw, window), tags={"action": action, **tags}, unit="ms"
    )


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _path(url: str) -> str:
    """The URL's path, to use as the route when none was sent."""
    if not url:
        return ""
    try:
        path = urlsplit(url).path
    except ValueError:  # "http://[::1": an unclosed IPv6 host
        raise Invalid("url", "not a URL") from None
    if len(path) > MAX_TAG_VALUE:
        raise Invalid("url", f"its path (the route, when none is sent) is longer than {MAX_TAG_VALUE} characters")
    return path


def _number(raw: dict, key: str, minimum: float | None = None) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(key, "expected a number")
    try:
        value = float(value)
    except OverflowError:
        raise Invalid(key, "expected a finite number") from None
    if not math.isfinite(value):
        raise Invalid(key, "expected a finite number")
    if minimum is not None and value < minimum:
        raise Invalid(key, f"expected a number >= {minimum:g}")
    if abs(value) > MAX_ABS_VALUE:
        low = "0" if minimum == 0 else f"-{MAX_ABS_VALUE:g}"
        raise Invalid(key, f"expected a number between {low} and {MAX_ABS_VALUE:g}")
    return value


def _text(raw: dict, key: str, *, limit: int) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(key, "expected a string")
    if len(value) > limit:
        raise Invalid(key, f"longer than {limit} characters")
    _storable(key, value)
    return value


def _storable(key: str, text: str) -> None:
    found = UNSTORABLE.search(text)
    if found is None:
        return
    what = "a NUL character" if found.group() == "\x00" else "a lone surrogate (invalid Unicode)"
    raise Invalid(key, f"contains {what} at position {found.start()}, which cannot be stored")


def printable(key: str) -> str:
    """A key from the body as it may appear in an error path: the answer is UTF-8 JSON,
    which a lone surrogate would break, so those are escaped."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8") if UNSTORABLE.search(key) else key


def _checked_tags(raw, window: Window) -> dict[str, str]:
    try:
        # With the types: True == 1 == 1.0, but they become the tags "true", "1" and "1.0".
        key = tuple((k, type(v), v) for k, v in raw.items()) if isinstance(raw, dict) else None
        cached = window.checked_tags.get(key)
    except TypeError:  # a nested value: not hashable, and _tags() refuses it anyway
        key = cached = None
    if cached is None:
        cached = _tags(raw, "tags")
        if key is not None:
            window.checked_tags[key] = cached
    return cached


def _tags(raw, name: str, limit: int = MAX_TAGS) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid(name, "expected an object of tag names to values")
    if len(raw) > limit:
        raise Invalid(name, f"{len(raw)} entries; at most {limit}")
    tags = {}
    for key, value in raw.items():
        if not TAG_KEY.fullmatch(key):
            raise Invalid(f"{name}.{printable(key)}", "a tag name is letters, digits and _ . - (at most 64)")
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid(f"{name}.{key}", "expected a finite number")
        if not isinstance(value, str | int | float | bool):
            raise Invalid(f"{name}.{key}", "expected a string, number or boolean")
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        if len(text) > MAX_TAG_VALUE:
            raise Invalid(f"{name}.{key}", f"longer than {MAX_TAG_VALUE} characters")
        _storable(f"{name}.{key}", text)
        tags[key] = text
    return tags


def _timestamp(raw: dict, window: Window) -> datetime:
    """ISO 8601, or seconds since the epoch (milliseconds when above 1e11, as JS sends)."""
    value = raw.get("timestamp")
    if value is None:
        return window.now
    if isinstance(value, str):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise Invalid("timestamp", "expected ISO 8601 or seconds since the epoch")
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = value / 1000 if value > 1e11 else value
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid("timestamp", "out of range") from None
    else:
        raise Invalid("timestamp", "expected ISO 8601 or seconds since the epoch")
    if moment < window.oldest:
        raise Invalid(
            "timestamp", f"more than {settings.TELEMETRY_MAX_LATENESS_SECONDS} s in the past; too late to store"
        )
    if moment > window.newest:
        raise Invalid("timestamp", f"more than {settings.TELEMETRY_MAX_FUTURE_SECONDS} s in the future")
    return moment.astimezone(UTC)  # partitions and rollup minutes are UTC days and minutes
