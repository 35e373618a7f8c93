"""The outbound HTTP helper: private addresses refused unless allowed, no rebinding, no redirects."""

import socket
from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery import outbound
from tests.alerts.delivery.sink import serve_sink
from tests.monitoring.uptime.servers import http_app, self_signed_cert, serve_http, server_tls_context
from tests.processes import free_port


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8000/hook", "127.0.0.1, a loopback address"),
        ("http://localhost/hook", "a loopback address"),
        ("http://10.1.2.3/hook", "10.1.2.3, a private address"),
        ("http://192.168.0.10/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("http://[::1]:9000/hook", "::1, a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("http://[fe80::1]/hook", "a link-local address"),
        ("http://[fc00::5]/hook", "a private address"),
        ("http://0.0.0.0/hook", "an unspecified address"),
        ("http://224.0.0.251/hook", "a multicast address"),
        ("http://240.0.0.1/hook", "a reserved address"),
        ("http://100.64.0.1/hook", "a non-public address"),
        ("http://2130706433/hook", "127.0.0.1, a loopback address"),  # 127.0.0.1 as one number
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url, why):
    with pytest.raises(outbound.OutboundRefused, match=why):
        outbound.check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "http:///nohost", "http://[::1/"])
def test_only_http_urls_with_a_host(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url, allow_private=True)


def test_a_refused_url_sends_nothing(sink):
    with pytest.raises(outbound.OutboundRefused, match="only an internal channel may reach it"):
        outbound.request("POST", f"{sink.url}/hook", body=b"{}", allow_private=False)
    assert sink.requests == []


def test_an_internal_channel_reaches_loopback_and_gets_status_excerpt_and_duration(sink):
    sink.answer(201)
    sink.body = b"created " + b"x" * 2000

    response = outbound.request(
        "POST",
        f"{sink.url}/hook?a=1",
        body=b'{"x": 1}',
        headers={"Content-Type": "application/json"},
        allow_private=True,
    )

    assert response.status == 201
    assert response.excerpt.startswith("created ") and len(response.excerpt) == 500
    assert response.duration_ms is not None and response.duration_ms >= 0
    (received,) = sink.requests
    assert (received.method, received.path, received.body) == ("POST", "/hook?a=1", b'{"x": 1}')


def test_the_host_is_resolved_once_and_the_checked_address_is_the_one_connected_to(sink, monkeypatch):
    port = sink.url.rsplit(":", 1)[1]
    looked_up = []
    real_getaddrinfo = socket.getaddrinfo

    def recording_getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    response = outbound.request("POST", f"http://localhost:{port}/hook", allow_private=True)

    assert response.status == 200
    # One lookup of the name; the connection used the address that lookup returned.
    assert looked_up.count("localhost") == 1
    (received,) = sink.requests
    assert received.headers["host"] == f"localhost:{port}"


def test_redirects_are_not_followed(sink):
    sink.answer(302)
    sink.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}

    response = outbound.request("POST", f"{sink.url}/hook", allow_private=True)

    assert response.status == 302
    assert len(sink.requests) == 1


def test_a_server_that_does_not_answer_times_out(settings):
    settings.ALERTS_OUTBOUND_TIMEOUT_SECONDS = 0.3
    with serve_sink(hold_first=True) as holding:
        with pytest.raises(outbound.OutboundError, match="did not answer in time"):
            outbound.request("POST", f"{holding.url}/hook", allow_private=True)


def test_a_closed_port_is_a_connection_error():
    with pytest.raises(outbound.OutboundError, match="could not connect to 127.0.0.1"):
        outbound.request("POST", f"http://127.0.0.1:{free_port()}/", allow_private=True)


def test_tls_is_verified_against_the_urls_host(tmp_path):
    cert, key = self_signed_cert(tmp_path, not_after=datetime.now(UTC) + timedelta(days=30))
    with serve_http(http_app(), ssl_context=server_tls_context(cert, key)) as base:
        port = base.rsplit(":", 1)[1]
        # Connected to the checked address, but the certificate is still checked for "localhost".
        with pytest.raises(outbound.OutboundError, match="TLS with localhost failed: .*certificate verify failed"):
            outbound.request("POST", f"https://localhost:{port}/echo", allow_private=True)
