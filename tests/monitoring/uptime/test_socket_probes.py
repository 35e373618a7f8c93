"""TCP, TLS-expiry and DNS probes against a real listener, a self-signed TLS server and a DNS stub."""

import asyncio
import datetime as dt

import pytest

from monitoring.models import Target
from monitoring.uptime.models import FlipCause
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP
from monitoring.uptime.probes.runner import probe_batch
from tests.monitoring.uptime.servers import (
    closed_port,
    dns_stub,
    http_app,
    self_signed_cert,
    serve_http,
    server_tls_context,
    tcp_listener,
)


def probe(**fields):
    target = Target(pk=1, timeout_seconds=fields.pop("timeout_seconds", 3), **fields)
    [probed] = asyncio.run(probe_batch([target]))
    return probed.outcome


class TestTcp:
    def test_an_open_port_is_up_with_connect_time(self):
        with tcp_listener() as port:
            result = probe(kind="tcp", host="127.0.0.1", port=port)
        assert (result.outcome, result.error, result.cause) == (UP, "", None)
        assert result.connect_ms is not None

    def test_a_closed_port_is_down_naming_the_refusal(self):
        port = closed_port()
        result = probe(kind="tcp", host="127.0.0.1", port=port)
        assert (result.outcome, result.error) == (DOWN, f"connection refused to 127.0.0.1:{port}")
        assert result.cause == FlipCause.CONNECTION_FAILED

    def test_an_unresolvable_host_is_down(self):
        result = probe(kind="tcp", host="no-such-host.invalid", port=80)
        assert result.outcome == DOWN and result.error.startswith("could not resolve no-such-host.invalid: ")
        assert result.cause == FlipCause.DNS_FAILURE


def tls_target_on(tmp_path, days_left: float, **fields):
    not_after = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days_left)
    cert, key = self_signed_cert(tmp_path, not_after=not_after)
    return not_after, serve_http(http_app(), ssl_context=server_tls_context(cert, key))


class TestTlsExpiry:
    def test_a_certificate_far_from_expiry_is_up_and_recorded(self, tmp_path):
        not_after, server = tls_target_on(tmp_path, 90)
        with server as url:
            result = probe(kind="tls", host="127.0.0.1", port=int(url.rsplit(":", 1)[1]), verify_tls=False)
        assert (result.outcome, result.cert_expires_at) == (UP, not_after)
        assert result.tls_ms is not None and result.connect_ms is not None

    @pytest.mark.parametrize(("days_left", "threshold"), [(25, 30), (10, 14), (3, 7)])
    def test_inside_a_threshold_is_a_degraded_warning_naming_it(self, tmp_path, days_left, threshold):
        _, server = tls_target_on(tmp_path, days_left + 0.5)
        with server as url:
            result = probe(
                kind="tls",
                host="127.0.0.1",
                port=int(url.rsplit(":", 1)[1]),
                verify_tls=False,
                tls_warn_days=[30, 14, 7],
            )
        assert (result.outcome, result.cause) == (DEGRADED, FlipCause.CERTIFICATE_EXPIRING)
        assert result.error == f"certificate expires in {days_left} days (under the {threshold}-day threshold)"

    def test_an_expired_certificate_is_down(self, tmp_path):
        not_after, server = tls_target_on(tmp_path, -2)
        with server as url:
            result = probe(kind="tls", host="127.0.0.1", port=int(url.rsplit(":", 1)[1]), verify_tls=False)
        assert (result.outcome, result.error) == (DOWN, f"certificate expired on {not_after:%Y-%m-%d}")
        assert result.cause == FlipCause.CERTIFICATE_EXPIRED

    def test_with_verification_on_an_untrusted_certificate_is_down(self, tmp_path):
        _, server = tls_target_on(tmp_path, 90)
        with server as url:
            result = probe(kind="tls", host="127.0.0.1", port=int(url.rsplit(":", 1)[1]), verify_tls=True)
        assert result.outcome == DOWN and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert result.cause == FlipCause.TLS_ERROR


@pytest.fixture(scope="module")
def resolver_port():
    records = {
        ("shop.example", "A"): ["192.0.2.10", "192.0.2.11"],
        ("shop.example", "TXT"): ['"v=spf1 -all"'],
        ("www.shop.example", "CNAME"): ["shop.example."],
    }
    with dns_stub(records) as port:
        yield port


class TestDns:
    def dns(self, resolver_port, **fields):
        return probe(kind="dns", dns_resolver="127.0.0.1", dns_resolver_port=resolver_port, **fields)

    def test_expected_answers_in_any_order_are_up(self, resolver_port):
        result = self.dns(resolver_port, host="shop.example", dns_expected=["192.0.2.11", "192.0.2.10"])
        assert (result.outcome, result.error) == (UP, "")
        assert result.dns_ms is not None

    def test_different_answers_are_down_listing_both(self, resolver_port):
        result = self.dns(resolver_port, host="shop.example", dns_expected=["192.0.2.99"])
        assert result.outcome == DOWN
        assert result.error == "answers 192.0.2.10, 192.0.2.11; expected 192.0.2.99"
        assert result.cause == FlipCause.DNS_MISMATCH

    def test_other_record_types(self, resolver_port):
        assert (
            self.dns(
                resolver_port, host="www.shop.example", dns_record_type="CNAME", dns_expected=["shop.example"]
            ).outcome
            == UP
        )
        assert (
            self.dns(resolver_port, host="shop.example", dns_record_type="TXT", dns_expected=["v=spf1 -all"]).outcome
            == UP
        )

    def test_without_expectations_any_answer_is_up(self, resolver_port):
        assert self.dns(resolver_port, host="shop.example").outcome == UP

    def test_a_missing_name_or_record_is_down(self, resolver_port):
        missing = self.dns(resolver_port, host="gone.example")
        assert (missing.outcome, missing.error) == (DOWN, "gone.example does not exist")
        no_record = self.dns(resolver_port, host="shop.example", dns_record_type="MX")
        assert (no_record.outcome, no_record.error) == (DOWN, "no MX record for shop.example")
        assert missing.cause == no_record.cause == FlipCause.DNS_FAILURE

    def test_an_unreachable_resolver_is_down(self):
        result = probe(
            kind="dns", dns_resolver="127.0.0.1", dns_resolver_port=closed_port(), host="x.example", timeout_seconds=0.3
        )
        assert result.outcome == DOWN
        assert result.cause in (FlipCause.TIMEOUT, FlipCause.DNS_FAILURE)
