"""TLS probe: handshake with host:port and report how many days the certificate has left."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.probes.base import (
    DEGRADED,
    DOWN,
    UP,
    Probe,
    ProbeOutcome,
    cert_not_after,
    connect_error_text,
    elapsed_ms,
    failure_cause,
    timed_out,
)
from monitoring.uptime.probes.tcp import resolve

if TYPE_CHECKING:
    import aiohttp

    from monitoring.models import Target

DEFAULT_TLS_PORT = 443


def tls_context(*, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class TlsProbe(Probe):
    kind = "tls"

    async def run(self, target: Target, *, session: aiohttp.ClientSession) -> ProbeOutcome:
        port = target.port or DEFAULT_TLS_PORT
        started = time.perf_counter()
        try:
            async with asyncio.timeout(target.timeout_seconds):
                addresses = await resolve(target.host, port)
                dns_ms = elapsed_ms(started)
                connecting = time.perf_counter()
                reader, writer = await asyncio.open_connection(*addresses[0][4][:2])
                connect_ms = elapsed_ms(connecting)
                handshaking = time.perf_counter()
                await writer.start_tls(tls_context(verify=target.verify_tls), server_hostname=target.host)
                tls_ms = elapsed_ms(handshaking)
        except TimeoutError:
            return timed_out(target, started)
        except (OSError, ssl.SSLError) as exc:
            return ProbeOutcome(
                DOWN,
                latency_ms=elapsed_ms(started),
                error=connect_error_text(exc, host=target.host, port=port),
                cause=failure_cause(exc),
            )
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        expires_at = cert_not_after(der)
        outcome = ProbeOutcome(
            UP,
            latency_ms=elapsed_ms(started),
            dns_ms=dns_ms,
            connect_ms=connect_ms,
            tls_ms=tls_ms,
            cert_expires_at=expires_at,
        )
        outcome.outcome, outcome.cause, outcome.error = expiry_verdict(expires_at, warn_days=target.tls_warn_days)
        return outcome


def expiry_verdict(expires_at: datetime | None, *, warn_days: list[int]) -> tuple[int, FlipCause | None, str]:
    """Expired is down; inside the widest threshold (e.g. 30 days) is a degraded warning."""
    if expires_at is None:
        return DOWN, FlipCause.TLS_ERROR, "no certificate presented"
    left = expires_at - datetime.now(UTC)
    if left.total_seconds() <= 0:
        return DOWN, FlipCause.CERTIFICATE_EXPIRED, f"certificate expired on {expires_at:%Y-%m-%d}"
    crossed = [d for d in warn_days if left.days < d]
    if crossed:
        return (
            DEGRADED,
            FlipCause.CERTIFICATE_EXPIRING,
            f"certificate expires in {left.days} days (under the {min(crossed)}-day threshold)",
        )
    return UP, None, ""
