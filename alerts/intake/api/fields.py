"""Strict readers for intake payloads: each names the field it refuses, e.g. `alerts[2].labels`."""

import hashlib
from datetime import datetime

from django.utils.dateparse import parse_datetime

from alerts.intake.api.common import PayloadInvalid
from monitoring.common.validators import unknown_fields

MISSING = object()


def required(data: dict, key: str, path: str):
    value = data.get(key, MISSING)
    if value is MISSING:
        raise PayloadInvalid(path, "this field is required")
    return value


def known(data: dict, fields: frozenset[str], where: str = "") -> None:
    """A field the intake does not read is refused, naming it, rather than dropped without a word."""
    for path, message in unknown_fields(data, fields, where=where).items():
        raise PayloadInvalid(path, message)


def string(value, path: str, *, max_length: int | None = None, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise PayloadInvalid(path, "expected a string")
    if not allow_empty and not value.strip():
        raise PayloadInvalid(path, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise PayloadInvalid(path, f"at most {max_length} characters")
    return value


def choice(value, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise PayloadInvalid(path, f"expected one of {', '.join(choices)}")
    return value


def string_map(value, path: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PayloadInvalid(path, "expected an object")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadInvalid(f"{path}.{key}", "expected a string")
    return value


def obj(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadInvalid(path, "expected an object")
    return value


def timestamp(value, path: str) -> datetime | None:
    """RFC 3339; Go's zero time (Alertmanager's "no end yet") reads as None."""
    string(value, path)
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PayloadInvalid(path, "expected an RFC 3339 time with a zone, e.g. 2026-03-02T09:00:00Z")
    return None if moment.year <= 1 else moment


def bounded_key(prefix: str, value: str, *, max_length: int = 255) -> str:
    """A stored key from an outside one, hashed when it would not fit the column."""
    key = f"{prefix}{value}"
    if len(key) <= max_length:
        return key
    return f"{prefix}sha256:{hashlib.sha256(value.encode()).hexdigest()}"
