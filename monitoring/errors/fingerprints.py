"""Which issue an event belongs to: a hash of its grouping components.

The first rule that applies decides, as in Sentry:
1. the SDK's `fingerprint`, where `{{ default }}` stands for what the rules below give;
2. the in-app stack frames (module or file name, function, trimmed context line) with the
   exception type, for every exception in the chain that has in-app frames;
3. the exception types and their values with the variable parts (numbers, ids, addresses,
   quoted strings) replaced;
4. the message template (`logentry.message`, before its parameters are filled in).

Pure functions over the event's JSON; no Django.
"""

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_PLACEHOLDER = re.compile(r"^\{\{\s*default\s*\}\}$")

# Longest first: an email holds a number, a UUID holds hex, so the wider pattern must win.
_VARIABLE_PARTS = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"), "<date>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.I), "<hex>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"-?\b\d+(?:\.\d+)?"), "<num>"),
]

# Context lines longer than this are minified or generated code: they would split groups
# on every build, so such frames group by module and function only.
MAX_CONTEXT_LINE = 120


@dataclass(frozen=True)
class Grouping:
    hash: str
    rule: str  # "fingerprint", "in_app_frames", "exception", "message" or "fallback"
    components: tuple[str, ...]


def normalise_value(value: str) -> str:
    for pattern, placeholder in _VARIABLE_PARTS:
        value = pattern.sub(placeholder, value)
    return value.strip()


def exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The exception chain as SDKs send it, innermost cause first; missing or malformed parts skipped."""
    container = event.get("exception")
    values = container.get("values") if isinstance(container, dict) else container
    if not isinstance(values, list):
        return []
    return [exc for exc in values if isinstance(exc, dict)]


def frames(exception: dict[str, Any]) -> list[dict[str, Any]]:
    stacktrace = exception.get("stacktrace")
    raw = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []


def message_template(event: dict[str, Any]) -> str:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        template = logentry.get("message") or logentry.get("formatted")
        if isinstance(template, str) and template:
            return template
    message = event.get("message")
    if isinstance(message, dict):
        message = message.get("message") or message.get("formatted")
    return message if isinstance(message, str) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _frame_component(frame: dict[str, Any]) -> str:
    module = _text(frame.get("module")) or posixpath.basename(_text(frame.get("filename")).replace("\\", "/"))
    function = _text(frame.get("function"))
    context = _text(frame.get("context_line")).strip()
    if len(context) > MAX_CONTEXT_LINE:
        context = ""
    return f"{module}|{function}|{context}"


def _in_app_components(event: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for exc in exceptions(event):
        in_app = [_frame_component(f) for f in frames(exc) if f.get("in_app") is True]
        if in_app:
            parts.append(f"type:{_text(exc.get('type'))}")
            parts.extend(f"frame:{c}" for c in in_app)
    return parts


def _exception_components(event: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for exc in exceptions(event):
        kind, value = _text(exc.get("type")), _text(exc.get("value"))
        if kind or value:
            parts.append(f"exception:{kind}|{normalise_value(value)}")
    return parts


def default_grouping(event: dict[str, Any]) -> tuple[str, list[str]]:
    """Rules 2 to 4: the first that yields anything, as (rule, components)."""
    if parts := _in_app_components(event):
        return "in_app_frames", parts
    if parts := _exception_components(event):
        return "exception", parts
    if template := message_template(event):
        return "message", [f"message:{template}"]
    # Nothing to go by: such events share one issue rather than each making their own.
    return "fallback", ["fallback"]


def _fingerprint(event: dict[str, Any]) -> list[str] | None:
    fingerprint = event.get("fingerprint")
    if not isinstance(fingerprint, list) or not fingerprint:
        return None
    # SDKs send strings; anything else is stringified as Sentry does, but nulls skipped.
    return [str(part) for part in fingerprint if part is not None] or None


def group(event: dict[str, Any]) -> Grouping:
    fingerprint = _fingerprint(event)
    if fingerprint is None:
        rule, components = default_grouping(event)
    else:
        rule, components = "fingerprint", []
        for part in fingerprint:
            if DEFAULT_PLACEHOLDER.match(part.strip()):
                components.extend(default_grouping(event)[1])
            else:
                components.append(f"fingerprint:{part}")
    digest = hashlib.sha256("\n".join(components).encode("utf-8", "surrogatepass")).hexdigest()
    return Grouping(hash=digest, rule=rule, components=tuple(components))
