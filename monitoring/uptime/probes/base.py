"""What every probe kind returns, and the small base they share."""

from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from cryptography import x509

from monitoring.uptime.causes import FlipCause

if TYPE_CHECKING:
    import aiohttp

    from monitoring.models import Target

UP, DEGRADED, DOWN = 1, 2, 3  # the values of ProbeResult.Outcome, kept import-free for workers


@dataclass
class ProbeOutcome:
    """What one probe saw. A degraded or down outcome says why twice: `cause` for the flip it
    may lead to, `error` for people."""

    outcome: int
    latency_ms: int | None = None
    dns_ms: int | None = None
    connect_ms: int | None = None
    tls_ms: int | None = None
    first_byte_ms: int | None = None
    status_code: int | None = None
    error: str = ""
    cert_expires_at: datetime | None = None
    cause: FlipCause | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == DOWN


class Probe:
    """One kind of check. `run` never raises for a failing target: it returns DOWN with why."""

    kind: ClassVar[str]

    async def run(self, target: Target, *, session: aiohttp.ClientSession) -> ProbeOutcome:
        raise NotImplementedError


def elapsed_ms(since: float) -> int:
    return max(0, round((time.perf_counter() - since) * 1000))


def timed_out(target: Target, started: float) -> ProbeOutcome:
    """The outcome of a probe that ran past the target's timeout, whatever its kind."""
    return ProbeOutcome(
        DOWN,
        latency_ms=elapsed_ms(started),
        error=f"timed out after {target.timeout_seconds:g} s",
        cause=FlipCause.TIMEOUT,
    )


def cert_not_after(der: bytes | None) -> datetime | None:
    """The expiry of a DER certificate; read even when verification is off, when ssl won't."""
    if not der:
        return None
    return x509.load_der_x509_certificate(der).not_valid_after_utc.astimezone(UTC)


def failure_cause(exc: BaseException) -> FlipCause:
    """The cause of a failure to reach the target at all, by what the socket layer raised."""
    if isinstance(exc, TimeoutError):
        return FlipCause.TIMEOUT
    if isinstance(exc, socket.gaierror):
        return FlipCause.DNS_FAILURE
    if isinstance(exc, ssl.SSLError):  # certificate verification failures included
        return FlipCause.TLS_ERROR
    return FlipCause.CONNECTION_FAILED


def short_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300] if text != type(exc).__name__ else text[:300]


# The socket errors a person on call meets, in their words; others use the system's text.
CONNECT_ERRORS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connect timed out",
}


def connect_error_text(exc: BaseException, *, host: str, port: int | None) -> str:
    """ "connection refused to 127.0.0.1:8199", "could not resolve shop.invalid: Name or service
    not known": what failed and where, instead of Python's "[Errno 111] Connect call failed"."""
    if isinstance(exc, socket.gaierror):
        return f"could not resolve {host}: {exc.strerror or exc}"[:300]
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
        where = f"{host}:{port}" if port else host
        words = CONNECT_ERRORS.get(exc.errno or 0) or (exc.strerror or "").lower()
        return f"{words or 'could not connect'} to {where}"[:300]
    return short_error(exc)
