"""The request bodies of the telemetry endpoints as JSON Schema, from the same constants the
reader (payloads.py) checks against, so the schema and the 400s agree: unknown fields are
refused (additionalProperties false), and each field's type and bounds are the reader's."""

from typing import Any

from django.conf import settings

from monitoring.common.openapi import ANYTHING
from monitoring.telemetry import payloads as p

JsonSchema = dict[str, Any]

TIMESTAMP: JsonSchema = {
    "description": "ISO 8601 or seconds since the epoch (ms above 1e11); default now. Refused when more "
    "than TELEMETRY_MAX_LATENESS_SECONDS old or TELEMETRY_MAX_FUTURE_SECONDS ahead.",
    "oneOf": [{"type": "string", "format": "date-time", "nullable": True}, {"type": "number"}],
}


def _number(minimum: float) -> JsonSchema:
    return {"type": "number", "minimum": minimum, "maximum": p.MAX_ABS_VALUE}


def _text(max_length: int, **more: Any) -> JsonSchema:
    return {"type": "string", "maxLength": max_length, "nullable": True, **more}


def _tags(limit: int, **more: Any) -> JsonSchema:
    return {
        "type": "object",
        "nullable": True,
        "maxProperties": limit,
        "description": "Tag names are letters, digits and _ . - (at most 64), starting with a letter or _.",
        "additionalProperties": {
            "oneOf": [{"type": "string", "maxLength": p.MAX_TAG_VALUE}, {"type": "number"}, {"type": "boolean"}]
        },
        **more,
    }


def _item(required: list[str], properties: dict[str, JsonSchema], plural: str) -> JsonSchema:
    assert set(properties) == p.FIELDS[plural], "the schema names every field the reader takes"
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


POINT = _item(
    ["name", "value"],
    {
        "name": {"type": "string", "pattern": f"^{p.NAME.pattern}$"},
        "value": _number(-p.MAX_ABS_VALUE),
        "unit": _text(32),
        "type": {"type": "string", "enum": list(p.KINDS), "default": "distribution"},
        "tags": _tags(p.MAX_TAGS),
        "timestamp": TIMESTAMP,
    },
    "points",
)
EVENT = _item(
    ["action"],
    {
        "action": {"type": "string", "minLength": 1, "maxLength": p.MAX_TAG_VALUE},
        "duration": {**_number(0), "nullable": True, "description": "ms"},
        "metadata": _tags(p.MAX_TAGS - 1, description="Becomes tags; 'action' is reserved."),
        "timestamp": TIMESTAMP,
    },
    "events",
)
ANY: JsonSchema = {**ANYTHING, "description": "Sent by the web-vitals library; not read."}
VITAL = _item(
    ["name", "value"],
    {
        "name": {"type": "string", "enum": list(p.VITALS)},
        "value": _number(0),
        "rating": {"type": "string", "enum": [*sorted(p.RATINGS), None], "nullable": True},
        "delta": _number(-p.MAX_ABS_VALUE),
        "id": ANY,
        "navigationType": ANY,
        "entries": ANY,
        "attribution": ANY,
        "url": _text(2000, description="The page; its path is the route when none is sent."),
        "route": _text(p.MAX_TAG_VALUE),
        "device": _text(16, enum=["", *sorted(p.DEVICES), None]),
        "connection": _text(16, pattern=f"^({p.CONNECTION.pattern[1:-1]})?$"),
        "timestamp": TIMESTAMP,
    },
    "vitals",
)


def batch(item: JsonSchema, plural: str) -> JsonSchema:
    """One item, a JSON array of them, or {plural: [...]}."""
    many = {"type": "array", "items": item, "minItems": 1, "maxItems": settings.TELEMETRY_MAX_BATCH}
    wrapped = {"type": "object", "required": [plural], "properties": {plural: many}, "additionalProperties": False}
    return {"oneOf": [item, many, wrapped]}
