"""Probe kinds, one class per kind, looked up by Target.kind."""

from monitoring.uptime.probes.base import Probe, ProbeOutcome
from monitoring.uptime.probes.dns import DnsProbe
from monitoring.uptime.probes.http import HttpProbe
from monitoring.uptime.probes.tcp import TcpProbe
from monitoring.uptime.probes.tls import TlsProbe

PROBES: dict[str, Probe] = {probe.kind: probe for probe in (HttpProbe(), TcpProbe(), DnsProbe(), TlsProbe())}

__all__ = ["PROBES", "Probe", "ProbeOutcome"]
