"""TCP probe: can a connection to host:port be opened within the timeout."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import TYPE_CHECKING, Any

from monitoring.uptime.probes.base import (
    DOWN,
    UP,
    Probe,
    ProbeOutcome,
    connect_error_text,
    elapsed_ms,
    failure_cause,
    timed_out,
)

if TYPE_CHECKING:
    import aiohttp

    from monitoring.models import Target


async def resolve(host: str, port: int | None) -> list[tuple[Any, ...]]:
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class TcpProbe(Probe):
    kind = "tcp"

    async def run(self, target: Target, *, session: aiohttp.ClientSession) -> ProbeOutcome:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(target.timeout_seconds):
                addresses = await resolve(target.host, target.port)
                dns_ms = elapsed_ms(started)
                connecting = time.perf_counter()
                _, writer = await asyncio.open_connection(*addresses[0][4][:2])
                connect_ms = elapsed_ms(connecting)
        except TimeoutError:
            return timed_out(target, started)
        except OSError as exc:
            return ProbeOutcome(
                DOWN,
                latency_ms=elapsed_ms(started),
                error=connect_error_text(exc, host=target.host, port=target.port),
                cause=failure_cause(exc),
            )
        writer.close()
        return ProbeOutcome(UP, latency_ms=elapsed_ms(started), dns_ms=dns_ms, connect_ms=connect_ms)
