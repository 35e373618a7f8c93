"""The one way notifiers reach the outside world over HTTP, guarded against SSRF.

A channel's URL is typed by an admin, so it could point Lookout at its own database, a
cloud metadata service or anything else inside the network. The host is resolved here,
every address it resolves to is checked, and the connection goes to the checked address
itself (the Host header and TLS name stay the URL's), so a DNS answer that changes between
the check and the connect cannot slip a private address through. Redirects are never
followed: the next hop would be a host nobody checked. Proxies from the environment are
ignored for the same reason.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

EXCERPT_CHARS = 500
# Enough of a body to show what the other side said; the rest is not read.
READ_LIMIT_BYTES = 64 * 1024


class OutboundError(Exception):
    """The request could not be made or did not complete (DNS, connect, timeout): may be retried."""


class OutboundRefused(OutboundError):
    """The URL is not one Lookout will contact (scheme, or an address the channel may not reach)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    excerpt: str
    duration_ms: int
    retry_after: int | None = None  # seconds, when the other side said so


class _PoolArgs(TypedDict):
    """What both kinds of connection pool are given: one connection, no retries, the timeout."""

    timeout: urllib3.Timeout
    retries: bool
    maxsize: int


def address_refusal(address: str) -> str | None:
    """Why `address` may not be reached by a channel that is not internal, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, kind in (
        ("is_unspecified", "an unspecified"),
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_reserved", "a reserved"),
        ("is_private", "a private"),
    ):
        if getattr(ip, test):
            return f"{kind} address"
    if not ip.is_global:  # shared (carrier-grade NAT), documentation, 6to4 of a private address…
        return "a non-public address"
    return None


def resolve_checked(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for `url`, or OutboundRefused saying why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused("only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise OutboundRefused("the URL has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"{host} does not resolve: {exc}") from None
    # str(): an inet address is a string already; the stubs also allow the int of other families.
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        # Every address, not just the first: a name with one public and one private answer
        # would otherwise reach the private one whenever the resolver reorders them.
        for address in addresses:
            if reason := address_refusal(address):
                raise OutboundRefused(f"{host} resolves to {address}, {reason}; only an internal channel may reach it")
    return parts.scheme, host, port, addresses[0]


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise OutboundRefused if `url` is not one a channel with these permissions may contact."""
    resolve_checked(url, allow_private=allow_private)


def request(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    allow_private: bool = False,
    timeout: float | None = None,
) -> OutboundResponse:
    """Send one request to `url` (checked first) and return what came back; never raises for a status."""
    scheme, host, port, address = resolve_checked(url, allow_private=allow_private)
    timeout = settings.ALERTS_OUTBOUND_TIMEOUT_SECONDS if timeout is None else timeout
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if scheme == "https" else 80
    host_header = f"[{host}]" if ":" in host else host
    headers = {
        "User-Agent": f"Lookout/{settings.VERSION}",
        **(headers or {}),
        "Host": host_header if port == default_port else f"{host_header}:{port}",
    }
    pool_kwargs: _PoolArgs = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False, "maxsize": 1}
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **pool_kwargs
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **pool_kwargs)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            method, path, body=body, headers=headers, redirect=False, preload_content=False, assert_same_host=False
        )
        try:
            content = response.read(READ_LIMIT_BYTES)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise OutboundError(_describe(exc, host)) from None
    finally:
        pool.close()
    return OutboundResponse(
        status=response.status,
        excerpt=content.decode("utf-8", "replace")[:EXCERPT_CHARS],
        duration_ms=round((time.monotonic() - started) * 1000),
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _describe(exc: Exception, host: str) -> str:
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of the timeout error
        return f"could not connect to {host}: {str(exc).rsplit(': ', 1)[-1]}"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"{host} did not answer in time"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return f"TLS with {host} failed: {exc}"
    # urllib3 names the pool (our checked address) in its messages; the reason is the last part.
    return f"{host}: {str(getattr(exc, 'reason', None) or exc).rsplit(': ', 1)[-1]}"


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None
