"""Runs a set of checks concurrently and names each endpoint's set."""

import asyncio

from health_check.base import HealthCheckResult
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from monitoring.health.broker import BrokerCheck
from monitoring.health.components import Component
from monitoring.health.datastores import CacheCheck, DatabaseCheck, StorageCheck
from monitoring.health.pulses import BeatCheck, RegionsCheck, WorkerCheck

# /health/<component>; the keys are the path segments.
COMPONENTS: dict[str, type[Component]] = {
    "db": DatabaseCheck,
    "cache": CacheCheck,
    "storage": StorageCheck,
    "broker": BrokerCheck,
    "beat": BeatCheck,
    "worker": WorkerCheck,
    "regions": RegionsCheck,
}
# What a load balancer needs before it routes a request here. Beat, workers and the
# broker are left out: requests are served (and ingest is committed) without them.
READY = ("db", "cache")
EVERYTHING = tuple(COMPONENTS)


async def run_checks(components, *, budget_seconds: float | None = None) -> list[HealthCheckResult]:
    """One fresh check per component, all at once. A crash inside a check comes back as
    that check's error (the library catches it), so this never raises for a check.

    `budget_seconds` cuts every check shorter than its own timeout; a check still
    running then fails with "no answer".
    """
    checks = [COMPONENTS[name]() for name in components]
    return list(await asyncio.gather(*(_result(check, budget_seconds) for check in checks)))


async def _result(check, budget_seconds: float | None) -> HealthCheckResult:
    if budget_seconds is None:
        return await check.get_result()
    try:
        return await asyncio.wait_for(check.get_result(), budget_seconds)
    except TimeoutError:
        kind = ServiceWarning if check.outage_warns else ServiceUnavailable
        error = kind(f"no answer within {budget_seconds:g} s")
        return HealthCheckResult(check=check, error=error, time_taken=budget_seconds)
