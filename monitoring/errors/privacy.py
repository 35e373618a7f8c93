"""What of an event may be stored: scrubbed secrets, and no client IP unless the project opts in.

Pure functions on the event's JSON (no Django), applied before anything is stored or grouped.
"""

import re
from collections.abc import Iterable
from typing import Any

from monitoring.common.scrubbing import FILTERED, scrub, scrub_text

# Request headers that carry the client's address on its way through proxies.
IP_HEADERS = frozenset(
    {
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "cf-connecting-ip",
        "true-client-ip",
        "x-client-ip",
    }
)
# sentry-sdk's marker asking the server to fill in the address it saw.
AUTO_IP = "{{auto}}"


def _without_ip_headers(headers: Any) -> Any:
    if isinstance(headers, dict):
        return {k: v for k, v in headers.items() if not (isinstance(k, str) and k.lower() in IP_HEADERS)}
    if isinstance(headers, list):
        return [
            pair
            for pair in headers
            if not (isinstance(pair, list) and pair and isinstance(pair[0], str) and pair[0].lower() in IP_HEADERS)
        ]
    return headers


def _strip_client_ip(event: dict[str, Any]) -> None:
    user = event.get("user")
    if isinstance(user, dict):
        user.pop("ip_address", None)
    request = event.get("request")
    if isinstance(request, dict):
        env = request.get("env")
        if isinstance(env, dict):
            env.pop("REMOTE_ADDR", None)
        if "headers" in request:
            request["headers"] = _without_ip_headers(request["headers"])


def _fill_auto_ip(event: dict[str, Any], client_ip: str | None) -> None:
    user = event.get("user")
    if isinstance(user, dict) and user.get("ip_address") == AUTO_IP:
        if client_ip:
            user["ip_address"] = client_ip
        else:
            user.pop("ip_address")


# A placeholder of a log message: printf style (%s, %(name)s, %5.2f) or str.format style
# ({}, {0}, {name}). "%%" is a literal percent sign.
_PLACEHOLDER = re.compile(
    r"%%|%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdiouxXeEfFgGcrab]"
    r"|\{(\w*)(?:[:!][^{}]*)?\}"
)


def _filled(template: str, params: list | dict) -> str:
    """The message as the logger formats it, each placeholder replaced by its parameter."""
    positional = iter(params if isinstance(params, list) else ())

    def fill(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1) or match.group(2)
        if name and isinstance(params, dict):
            value = params.get(name, match.group(0))
        elif name and name.isdigit() and isinstance(params, list):
            value = params[int(name)] if int(name) < len(params) else match.group(0)
        else:
            value = next(positional, match.group(0))
        return str(value)

    return _PLACEHOLDER.sub(fill, template)


def _logentry_params_filtered(logentry: dict[str, Any]) -> dict[str, Any]:
    """The log entry with every parameter that, filled into its message, makes a secret.

    A parameter alone ("hunter2") looks like nothing; placed after "password=" it is one. The
    message is filled in, scrubbed, and a parameter whose text is gone from the result goes too.
    """
    template, params = logentry.get("message"), logentry.get("params")
    if not isinstance(template, str) or not isinstance(params, (list, dict)) or not params:
        return logentry
    filled = _filled(template, params)
    kept = scrub_text(filled)
    if kept == filled:
        return logentry

    def judged(value: Any) -> Any:
        text = str(value)
        return FILTERED if text and text not in kept else value

    if isinstance(params, dict):
        return {**logentry, "params": {k: judged(v) for k, v in params.items()}}
    return {**logentry, "params": [judged(v) for v in params]}


def event_privatise(
    event: dict[str, Any],
    *,
    scrub_data: bool,
    extra_keys: Iterable[str],
    keep_client_ip: bool,
    client_ip: str | None,
) -> dict[str, Any]:
    """A copy of `event` fit to store."""
    if scrub_data and isinstance(event.get("logentry"), dict):
        event = {**event, "logentry": _logentry_params_filtered(event["logentry"])}
    event = scrub(event, extra_keys) if scrub_data else dict(event)
    # scrub() copies every container; without it, copy the parts edited below.
    if not scrub_data:
        for part in ("user", "request"):
            if isinstance(event.get(part), dict):
                event[part] = dict(event[part])
        if isinstance(event.get("request"), dict) and isinstance(event["request"].get("env"), dict):
            event["request"]["env"] = dict(event["request"]["env"])
    if keep_client_ip:
        _fill_auto_ip(event, client_ip)
    else:
        _strip_client_ip(event)
    return event
