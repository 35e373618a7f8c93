"""HTTP(S) probe on aiohttp: status ranges, redirects, auth, keyword and JSON assertions, phases."""

from __future__ import annotations

import contextvars
import json
import os
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp

from monitoring.common.validators import parse_status_ranges
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.probes.base import (
    CONNECT_ERRORS,
    DEGRADED,
    DOWN,
    UP,
    Probe,
    ProbeOutcome,
    cert_not_after,
    elapsed_ms,
    failure_cause,
    short_error,
    timed_out,
)

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

    from monitoring.models import Target

# Keyword and JSON checks read at most this much of a body; a probe must not eat memory.
MAX_BODY_BYTES = 1_000_000
_MISSING = object()

# The peer certificate of the request running in this task; set by PeerCertConnector.
_peer_cert: contextvars.ContextVar[dict[str, bytes | None] | None] = contextvars.ContextVar("peer_cert", default=None)


class PeerCertConnector(aiohttp.TCPConnector):
    """Keeps the server certificate of each new connection for the request that opened it.

    A response without a body releases its connection before the caller sees it, so the
    certificate has to be taken here, while the connection is certainly open. Each probe
    runs in a task of its own, so a context variable ties the certificate to its probe.
    """

    async def connect(self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout) -> Connection:
        connection = await super().connect(req, traces, timeout)
        holder = _peer_cert.get()
        ssl_object = connection.transport.get_extra_info("ssl_object") if connection.transport else None
        if holder is not None and ssl_object is not None:
            holder["der"] = ssl_object.getpeercert(binary_form=True)
        return connection


def phase_tracing() -> aiohttp.TraceConfig:
    """Timestamps per request in its trace context, for the DNS, connect and first-byte phases."""
    trace = aiohttp.TraceConfig()

    def mark(name: str) -> Callable[[aiohttp.ClientSession, SimpleNamespace, Any], Awaitable[None]]:
        async def record(session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any) -> None:
            ctx.trace_request_ctx.marks.setdefault(name, time.perf_counter())

        return record

    trace.on_dns_resolvehost_start.append(mark("dns_start"))
    trace.on_dns_resolvehost_end.append(mark("dns_end"))
    trace.on_connection_create_start.append(mark("connect_start"))
    trace.on_connection_create_end.append(mark("connect_end"))
    trace.on_request_headers_sent.append(mark("sent"))
    trace.on_request_end.append(mark("headers_received"))
    return trace


def json_path_value(document: Any, path: str) -> Any:
    """'checks.0.ok' → document["checks"][0]["ok"], or _MISSING."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def as_text(value: Any) -> str:
    """A JSON value as a person writes it in the expected field: true, null, 42, ok."""
    return value if isinstance(value, str) else json.dumps(value)


def _ms_between(marks: dict[str, float], start: str, end: str) -> int | None:
    if start in marks and end in marks:
        return max(0, round((marks[end] - marks[start]) * 1000))
    return None


async def read_body(content: aiohttp.StreamReader, *, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of a body, and whether it went on past them. aiohttp's read(n)
    answers with whatever has arrived, so one call can return the first packet of a long body."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:  # one byte past the limit tells a cut body from one exactly that long
        chunk = await content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit], size > limit


class HttpProbe(Probe):
    kind = "http"

    async def run(self, target: Target, *, session: aiohttp.ClientSession) -> ProbeOutcome:
        request = self._request_options(target)
        if isinstance(request, ProbeOutcome):
            return request
        marks: dict[str, float] = {}
        peer_cert: dict[str, bytes | None] = {}
        _peer_cert.set(peer_cert)
        started = time.perf_counter()
        try:
            async with session.request(
                target.method, target.url, trace_request_ctx=SimpleNamespace(marks=marks), **request
            ) as response:
                body, cut = b"", False
                if target.keyword or target.json_path:
                    body, cut = await read_body(response.content, limit=MAX_BODY_BYTES)
                latency_ms = elapsed_ms(started)
        except aiohttp.TooManyRedirects:
            return ProbeOutcome(
                DOWN,
                latency_ms=elapsed_ms(started),
                error=f"more than {target.max_redirects} redirects",
                cause=FlipCause.TOO_MANY_REDIRECTS,
            )
        except TimeoutError:
            return timed_out(target, started)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return ProbeOutcome(DOWN, latency_ms=elapsed_ms(started), error=error_text(exc), cause=_cause_of(exc))

        outcome = ProbeOutcome(
            UP,
            latency_ms=latency_ms,
            status_code=response.status,
            cert_expires_at=cert_not_after(peer_cert.get("der")),
            dns_ms=_ms_between(marks, "dns_start", "dns_end"),
            # For HTTPS this includes the TLS handshake: aiohttp does both in one step.
            connect_ms=_ms_between(marks, "connect_start", "connect_end"),
            first_byte_ms=_ms_between(marks, "sent", "headers_received"),
        )
        failure = self._verdict(target, response.status, body, cut=cut)
        if failure:
            outcome.outcome = DOWN
            outcome.cause, outcome.error = failure
        elif target.degraded_after_ms is not None and latency_ms > target.degraded_after_ms:
            outcome.outcome = DEGRADED
            outcome.cause = FlipCause.SLOW
            outcome.error = f"slow: {latency_ms} ms, over {target.degraded_after_ms} ms"
        return outcome

    @staticmethod
    def _request_options(target: Target) -> dict[str, Any] | ProbeOutcome:
        headers = dict(target.headers or {})
        if target.auth_kind:
            secret = os.environ.get(target.auth_secret_env)
            if secret is None:
                return ProbeOutcome(
                    DOWN,
                    error=f"environment variable {target.auth_secret_env} is not set",
                    cause=FlipCause.CONFIG_ERROR,
                )
            if target.auth_kind == "basic":
                headers["Authorization"] = aiohttp.encode_basic_auth(target.auth_username, secret)
            else:
                headers["Authorization"] = f"Bearer {secret}"
        return {
            "headers": headers,
            "data": target.body.encode() if target.body else None,
            "allow_redirects": target.follow_redirects,
            # aiohttp fails on reaching its limit; ours is the number of redirects allowed.
            "max_redirects": target.max_redirects + 1,
            "ssl": None if target.verify_tls else False,
            "timeout": aiohttp.ClientTimeout(total=target.timeout_seconds),
        }

    @staticmethod
    def _verdict(target: Target, status: int, body: bytes, *, cut: bool) -> tuple[FlipCause, str] | None:
        """Why the response fails the target's checks, or None when it passes. A body cut at
        the read limit passes only a check the part read settles: a keyword found in it."""
        if not any(low <= status <= high for low, high in parse_status_ranges(target.accepted_statuses)):
            return FlipCause.BAD_STATUS, f"status {status} not in {target.accepted_statuses}"
        if target.keyword:
            found = target.keyword in body.decode(errors="replace")
            if target.keyword_mode == "present" and not found:
                where = f" in the first {len(body)} bytes (the body was cut there)" if cut else ""
                return FlipCause.KEYWORD_FAILED, f"keyword {target.keyword!r} not found{where}"
            if target.keyword_mode == "absent" and found:
                return FlipCause.KEYWORD_FAILED, f"keyword {target.keyword!r} found"
            if target.keyword_mode == "absent" and cut:
                # The keyword may sit in the part never read: not seeing it proves nothing.
                return (
                    FlipCause.KEYWORD_FAILED,
                    f"body cut at {len(body)} bytes; cannot tell the keyword {target.keyword!r} is absent",
                )
        if target.json_path:
            if cut:
                return FlipCause.JSON_FAILED, f"body cut at {len(body)} bytes; too long to read as JSON"
            try:
                document = json.loads(body)
            except ValueError:
                return FlipCause.JSON_FAILED, "body is not JSON"
            value = json_path_value(document, target.json_path)
            if value is _MISSING:
                return FlipCause.JSON_FAILED, f"JSON path {target.json_path!r} not found"
            if target.json_expected and as_text(value) != target.json_expected:
                return (
                    FlipCause.JSON_FAILED,
                    f"JSON {target.json_path} is {as_text(value)[:80]!r}, expected {target.json_expected!r}",
                )
        return None


def error_text(exc: BaseException) -> str:
    """What failed, for people. aiohttp's own text for a connector error always names the
    connection's TLS setting ("ssl:default"), even for plain http, which sends readers after a
    TLS problem that isn't there; so it is built here from the host, port and errno instead."""
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientSSLError):
        where = f"{exc.host}:{exc.port}" if exc.port else exc.host
        os_error = exc.os_error
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return f"could not resolve {exc.host}: {os_error.strerror or os_error}"[:300]
        words = CONNECT_ERRORS.get(os_error.errno or 0) or (os_error.strerror or str(os_error) or "").lower()
        return f"{words or 'could not connect'} to {where}"[:300]
    return short_error(exc)


def _cause_of(exc: BaseException) -> FlipCause:
    """aiohttp wraps the socket layer's errors; the wrapped one tells DNS from TLS from refusal."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FlipCause.DNS_FAILURE
    if isinstance(exc, aiohttp.ClientSSLError):
        return FlipCause.TLS_ERROR
    if isinstance(exc, aiohttp.ClientConnectorError):
        return failure_cause(exc.os_error)
    if isinstance(exc, ValueError) and not isinstance(exc, OSError):  # a URL or header aiohttp refuses to send
        return FlipCause.CONFIG_ERROR
    return failure_cause(exc)
