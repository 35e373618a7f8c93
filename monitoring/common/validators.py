"""Field validators shared by the admin, the API and config import (they all call full_clean)."""

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

STATUS_RANGES = re.compile(r"^\s*\d{3}(\s*-\s*\d{3})?(\s*,\s*\d{3}(\s*-\s*\d{3})?)*\s*$")

validate_probe_url = URLValidator(schemes=["http", "https"], message="Enter a valid http:// or https:// URL.")


def parse_status_ranges(value: str) -> list[tuple[int, int]]:
    """'200-299, 301' → [(200, 299), (301, 301)]."""
    ranges = []
    for part in value.split(","):
        low, _, high = part.strip().partition("-")
        ranges.append((int(low), int(high or low)))
    return ranges


def validate_status_ranges(value: str) -> None:
    if not STATUS_RANGES.match(value or ""):
        raise ValidationError("Use status codes and ranges such as '200-299, 301'.")
    for low, high in parse_status_ranges(value):
        if not (100 <= low <= high <= 599):
            raise ValidationError(f"{low}-{high} is not a range of HTTP status codes (100-599, low to high).")


def validate_cron(value: str) -> None:
    from datetime import datetime

    try:
        CronSim(value, datetime(2000, 1, 1))
    except (CronSimError, ValueError, KeyError, IndexError) as exc:
        raise ValidationError(f"{value!r} is not a valid cron expression ({exc}).") from exc


def validate_time_zone(value: str) -> None:
    # ZoneInfo also accepts file paths such as "../etc"; only names from the database count.
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone, e.g. 'Europe/Berlin' or 'UTC'.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a known time zone.") from exc


def validate_ip_address(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an IP address.") from exc


def validate_region_names(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError('Name at least one region, e.g. ["local"].')
    for name in value:
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name):
            raise ValidationError(f"{name!r} is not a region name (lowercase letters, digits, '-', '_').")
    if len(set(value)) != len(value):
        raise ValidationError("A region is named twice.")


def validate_warn_days(value) -> None:
    if not isinstance(value, list) or not all(isinstance(d, int) and d > 0 for d in value):
        raise ValidationError("List whole numbers of days, e.g. [30, 14, 7].")


def validate_string_list(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Give a list of strings.")


def validate_headers(value) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValidationError('Give headers as an object of strings, e.g. {"Accept": "text/html"}.')
    for name in value:
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            raise ValidationError(f"{name!r} is not a valid header name.")


def unknown_fields(data, known, *, where: str = "") -> dict[str, str]:
    """{path: message} for each key of `data` that is not in `known`.

    Strict inputs: a field the server does not read is refused, naming it as sent, rather than
    dropped without a word (a misspelt `metdata` would otherwise lose the metadata silently).
    The name is made printable and bounded, since it is echoed back in a JSON answer."""
    expected = ", ".join(sorted(known)) or "none"
    return {
        f"{where}{_echoable(key)}": f"unknown field; expected one of: {expected}" for key in data if key not in known
    }


def _echoable(key) -> str:
    text = str(key)[:100]
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
