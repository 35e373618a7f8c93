"""Who may read /metrics: a scraper with the bearer token, or one at an allowed address."""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

from monitoring.common.credentials import MalformedCredential, bearer_token, digest, matches

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[list[Network], list[str]]:
    """Addresses or CIDR networks, and the entries that are neither (system check E001)."""
    networks: list[Network] = []
    invalid: list[str] = []
    for entry in entries:
        if not entry.strip():
            continue  # METRICS_ALLOWED_IPS="" means no address at all
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            invalid.append(entry)
    return networks, invalid


def metrics_access_allowed(request: HttpRequest) -> bool:
    """A request that presents credentials is judged by them alone: a wrong or stale
    token is refused even from an allowed address, so a misconfigured scraper notices."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        return _token_matches(authorization)
    return _address_allowed(client_address(request))


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or as seen by the outermost trusted proxy.

    X-Forwarded-For is believed only for the hops the operator declared with
    TRUSTED_PROXY_COUNT (read through django-axes' setting, which comes from it), so a
    client cannot claim to be 127.0.0.1 by sending the header itself.
    """
    proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
    if proxies:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _token_matches(authorization: str) -> bool:
    expected = settings.METRICS_TOKEN
    try:
        presented = bearer_token(authorization)
    except MalformedCredential:
        return False
    # Compared as hashes, so the time taken tells nothing, not even the token's length.
    return bool(expected) and presented is not None and matches(presented, digest(expected))


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d
    networks, _ = parse_networks(settings.METRICS_ALLOWED_IPS)
    return any(ip in network for network in networks)
