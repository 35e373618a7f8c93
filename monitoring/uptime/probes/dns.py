"""DNS probe: ask a resolver (the system's, or the one named) for a record and compare answers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import dns.asyncresolver
import dns.exception
import dns.resolver

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.probes.base import DOWN, UP, Probe, ProbeOutcome, elapsed_ms, short_error, timed_out

if TYPE_CHECKING:
    import aiohttp

    from monitoring.models import Target


def normalise(value: str) -> str:
    return value.strip().strip('"').rstrip(".").lower()


class DnsProbe(Probe):
    kind = "dns"

    async def run(self, target: Target, *, session: aiohttp.ClientSession) -> ProbeOutcome:
        if target.dns_resolver:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [target.dns_resolver]
            resolver.port = target.dns_resolver_port
        else:
            resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = target.timeout_seconds
        started = time.perf_counter()
        try:
            answer = await resolver.resolve(target.host, target.dns_record_type)
        except dns.exception.Timeout:
            return timed_out(target, started)
        except dns.resolver.NXDOMAIN:
            return ProbeOutcome(
                DOWN,
                latency_ms=elapsed_ms(started),
                error=f"{target.host} does not exist",
                cause=FlipCause.DNS_FAILURE,
            )
        except dns.resolver.NoAnswer:
            return ProbeOutcome(
                DOWN,
                latency_ms=elapsed_ms(started),
                error=f"no {target.dns_record_type} record for {target.host}",
                cause=FlipCause.DNS_FAILURE,
            )
        except (dns.exception.DNSException, OSError) as exc:
            return ProbeOutcome(
                DOWN, latency_ms=elapsed_ms(started), error=short_error(exc), cause=FlipCause.DNS_FAILURE
            )
        latency_ms = elapsed_ms(started)
        got = sorted({normalise(r.to_text()) for r in answer})
        expected = sorted({normalise(v) for v in target.dns_expected})
        if expected and got != expected:
            return ProbeOutcome(
                DOWN,
                latency_ms=latency_ms,
                dns_ms=latency_ms,
                error=f"answers {', '.join(got)[:120]}; expected {', '.join(expected)[:120]}",
                cause=FlipCause.DNS_MISMATCH,
            )
        return ProbeOutcome(UP, latency_ms=latency_ms, dns_ms=latency_ms)
