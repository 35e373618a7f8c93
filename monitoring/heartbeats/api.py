"""Healthchecks-compatible ping endpoints: cheap, GET or POST, from curl in a crontab."""

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from monitoring.heartbeats.services.pings import Ping, heartbeat_ping
from monitoring.models import HeartbeatPing

_RID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ALLOWED = ["GET", "POST", "HEAD"]


@csrf_exempt
def ping(request, ping_key, signal: str = "", exit_code: int | None = None):
    if request.method not in _ALLOWED:
        return HttpResponseNotAllowed(_ALLOWED)
    if exit_code is not None and exit_code > 255:
        return HttpResponseBadRequest("exit_code: must be 0-255\n", content_type="text/plain")
    rid = request.GET.get("rid", "")
    if rid and not _RID.match(rid):
        return HttpResponseBadRequest(
            "rid: up to 64 letters, digits, '.', '_', ':' or '-'\n", content_type="text/plain"
        )
    # Read past the limit by one byte only, to know whether there was more; never the whole
    # body into memory, and never the 413 that request.body would raise for a large one.
    limit = settings.HEARTBEAT_PING_BODY_LIMIT
    raw = request.read(limit + 1) if request.method == "POST" else b""
    found = heartbeat_ping(
        ping_key=ping_key,
        ping=Ping(
            kind=_kind(signal, exit_code),
            at=timezone.now(),
            exit_code=exit_code,
            rid=rid,
            body=raw[:limit].decode(errors="replace").replace("\x00", "\ufffd"),
            body_truncated=len(raw) > limit,
            method=request.method,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", ""),
        ),
    )
    if not found:
        return HttpResponseNotFound("not found\n", content_type="text/plain")
    return HttpResponse("OK\n", content_type="text/plain")


def _kind(signal: str, exit_code: int | None) -> int:
    if exit_code is not None:
        return HeartbeatPing.Kind.FAIL if exit_code else HeartbeatPing.Kind.SUCCESS
    return {
        "": HeartbeatPing.Kind.SUCCESS,
        "start": HeartbeatPing.Kind.START,
        "fail": HeartbeatPing.Kind.FAIL,
        "log": HeartbeatPing.Kind.LOG,
    }[signal]
