"""Run a batch of probes concurrently: bounded, each under its own deadline, never raising."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.probes import PROBES
from monitoring.uptime.probes.base import DOWN, ProbeOutcome
from monitoring.uptime.probes.http import PeerCertConnector, phase_tracing

if TYPE_CHECKING:
    from monitoring.models import Target

logger = logging.getLogger(__name__)

# Past its own timeout a probe gets this long to give up cleanly before it is cancelled.
DEADLINE_SLACK_SECONDS = 1.0


@dataclass
class Probed:
    target_id: int
    checked_at: datetime
    outcome: ProbeOutcome


async def probe_batch(
    targets: Iterable[Target], *, concurrency: int = 200, due: dict[int, float] | None = None
) -> list[Probed]:
    """Probe every target once, none before its due time (Unix seconds, where `due` has one);
    a slow or hanging target only ever holds its own slot."""
    due = due or {}
    slots = asyncio.Semaphore(concurrency)
    # A fresh connection per probe (force_close): what a visitor's first request meets, and
    # a pooled socket can't hide a listener that stopped accepting.
    connector = PeerCertConnector(limit=concurrency, force_close=True, use_dns_cache=False)
    async with aiohttp.ClientSession(
        connector=connector, trace_configs=[phase_tracing()], cookie_jar=aiohttp.DummyCookieJar()
    ) as session:

        async def one(target: Target) -> Probed:
            wait = due.get(target.pk, 0) - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            async with slots:
                checked_at = datetime.now(UTC)
                return Probed(target.pk, checked_at, await _probe(target, session))

        return list(await asyncio.gather(*(one(t) for t in targets)))


async def _probe(target: Target, session: aiohttp.ClientSession) -> ProbeOutcome:
    probe = PROBES.get(target.kind)
    if probe is None:
        return ProbeOutcome(DOWN, error=f"no probe for kind {target.kind!r}", cause=FlipCause.CONFIG_ERROR)
    try:
        return await asyncio.wait_for(
            probe.run(target, session=session), timeout=target.timeout_seconds + DEADLINE_SLACK_SECONDS
        )
    except TimeoutError:
        return ProbeOutcome(DOWN, error=f"timed out after {target.timeout_seconds:g} s", cause=FlipCause.TIMEOUT)
    except Exception as exc:  # a bug in one probe must not lose the batch's other results
        logger.exception("probe of target %s failed unexpectedly", target.pk)
        return ProbeOutcome(DOWN, error=f"probe error: {type(exc).__name__}", cause=FlipCause.PROBE_ERROR)
