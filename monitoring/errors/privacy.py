"""What of an event may be stored: scrubbed secrets, and no client IP unless the project opts in.

Pure functions on the event's JSON (no Django), applied before anything is stored or grouped.
"""

from collections.abc import Iterable
from typing import Any

from monitoring.common.scrubbing import scrub

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


def event_privatise(
    event: dict[str, Any],
    *,
    scrub_data: bool,
    extra_keys: Iterable[str],
    keep_client_ip: bool,
    client_ip: str | None,
) -> dict[str, Any]:
    """A copy of `event` fit to store."""
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
