"""The intake's request bodies as JSON Schema, for the OpenAPI document: the same rules the
strict readers in fields.py apply, so what the schema allows is what is accepted."""

from typing import Any

from monitoring.common.openapi import ANYTHING

JsonSchema = dict[str, Any]

TEXT: JsonSchema = {"type": "string", "pattern": r"\S"}  # f.string: not empty, not only spaces
STRINGS: JsonSchema = {"type": "object", "additionalProperties": {"type": "string"}}
TIME: JsonSchema = {"type": "string", "format": "date-time"}
NOT_READ: JsonSchema = {**ANYTHING, "description": "PagerDuty's own field: accepted and not read."}


def _text(max_length: int) -> JsonSchema:
    return {**TEXT, "maxLength": max_length}


ALERTMANAGER: JsonSchema = {
    "type": "object",
    "description": "Alertmanager's webhook v4. Fields not listed are accepted and ignored.",
    "required": ["version", "groupKey", "status", "alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "groupKey": TEXT,
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "externalURL": {"type": "string"},
        "groupLabels": STRINGS,
        "commonLabels": STRINGS,
        "commonAnnotations": STRINGS,
        "alerts": {
            "type": "array",
            "minItems": 1,
            "description": "Each fingerprint at most once.",
            "items": {
                "type": "object",
                "required": ["status", "labels", "startsAt", "fingerprint"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": STRINGS,
                    "annotations": STRINGS,
                    "startsAt": TIME,
                    "endsAt": TIME,
                    "generatorURL": {"type": "string"},
                    "fingerprint": _text(64),
                },
            },
        },
    },
}


def _event(actions: list[str], required: list[str], payload: JsonSchema | None) -> JsonSchema:
    properties: dict[str, JsonSchema] = {
        "event_action": {"type": "string", "enum": actions},
        "routing_key": TEXT,
        # A trigger without one (or with null) gets one made up, and it is returned.
        "dedup_key": {**_text(200), "nullable": "payload" in required},
        "client": NOT_READ,
        "client_url": NOT_READ,
        "links": NOT_READ,
        "images": NOT_READ,
    }
    if payload is not None:
        properties["payload"] = payload
    return {
        "type": "object",
        "required": ["event_action", *required],
        "properties": properties,
        "additionalProperties": False,
    }


EVENT_PAYLOAD: JsonSchema = {
    "type": "object",
    "required": ["summary", "source", "severity"],
    "properties": {
        "summary": _text(1024),
        "source": _text(255),
        "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
        "timestamp": TIME,
        "component": _text(255),
        "group": _text(255),
        "class": _text(255),
        "custom_details": {"type": "object", "description": "Scalar details become labels detail_<key>."},
    },
    "additionalProperties": False,
}
EVENT: JsonSchema = {
    "oneOf": [
        _event(["trigger"], ["payload"], EVENT_PAYLOAD),
        _event(["acknowledge", "resolve"], ["dedup_key"], None),
    ]
}
