"""Probe kinds, one class per kind, looked up by Target.kind."""

from monitoring.probes.base import Probe, ProbeOutcome
from monitoring.probes.dns import DnsProbe
from monitoring.probes.http import HttpProbe
from monitoring.probes.tcp import TcpProbe
from monitoring.probes.tls import TlsProbe

PROBES: dict[str, Probe] = {probe.kind: probe for probe in (HttpProbe(), TcpProbe(), DnsProbe(), TlsProbe())}

__all__ = ["PROBES", "Probe", "ProbeOutcome"]
