"""The HTTP probe against a real local aiohttp server (and a self-signed HTTPS one)."""

import asyncio
import datetime as dt

import pytest

from monitoring.models import Target
from monitoring.uptime.models import FlipCause
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP
from monitoring.uptime.probes.http import MAX_BODY_BYTES
from monitoring.uptime.probes.runner import probe_batch
from tests.monitoring.uptime.servers import http_app, self_signed_cert, serve_http, server_tls_context


@pytest.fixture(scope="module")
def base_url():
    with serve_http(http_app()) as url:
        yield url


def probe(**fields):
    target = Target(pk=1, kind="http", timeout_seconds=fields.pop("timeout_seconds", 5), **fields)
    [probed] = asyncio.run(probe_batch([target]))
    return probed.outcome


def test_a_healthy_page_is_up_with_its_status_and_phases(base_url):
    result = probe(url=f"{base_url}/ok")
    assert (result.outcome, result.status_code, result.error, result.cause) == (UP, 200, "", None)
    assert result.latency_ms is not None and result.connect_ms is not None and result.first_byte_ms is not None


def test_a_status_outside_the_accepted_ranges_is_down(base_url):
    result = probe(url=f"{base_url}/status/503", accepted_statuses="200-299")
    assert result.outcome == DOWN
    assert result.error == "status 503 not in 200-299"
    assert result.cause == FlipCause.BAD_STATUS


def test_accepted_ranges_can_include_an_error_code(base_url):
    assert probe(url=f"{base_url}/status/418", accepted_statuses="200-299, 418").outcome == UP


def test_redirects_are_followed_up_to_the_maximum(base_url):
    assert probe(url=f"{base_url}/redirect/3", max_redirects=3).outcome == UP
    too_many = probe(url=f"{base_url}/redirect/4", max_redirects=3)
    assert (too_many.outcome, too_many.error) == (DOWN, "more than 3 redirects")
    assert too_many.cause == FlipCause.TOO_MANY_REDIRECTS


def test_without_following_redirects_the_redirect_status_is_judged(base_url):
    result = probe(url=f"{base_url}/redirect/1", follow_redirects=False, accepted_statuses="200-299")
    assert (result.outcome, result.status_code) == (DOWN, 302)


def test_keyword_present_and_absent(base_url):
    assert probe(url=f"{base_url}/ok", keyword="operational").outcome == UP
    missing = probe(url=f"{base_url}/ok", keyword="maintenance")
    assert (missing.outcome, missing.error) == (DOWN, "keyword 'maintenance' not found")
    assert probe(url=f"{base_url}/ok", keyword="maintenance", keyword_mode="absent").outcome == UP
    found = probe(url=f"{base_url}/ok", keyword="operational", keyword_mode="absent")
    assert found.outcome == DOWN
    assert missing.cause == found.cause == FlipCause.KEYWORD_FAILED


def long_page(base_url: str, size: int, word: str = "", at: int = 0) -> str:
    return f"{base_url}/long?size={size}&word={word}&at={at}"


class TestABodyPastTheReadLimit:
    def test_keyword_absent_cannot_pass_on_a_cut_body(self, base_url):
        for at in (0, MAX_BODY_BYTES + 100_000):  # no keyword at all (dots only), or one past the cut
            url = long_page(base_url, MAX_BODY_BYTES + 200_000, "maintenance" if at else "", at)
            result = probe(url=url, keyword="maintenance", keyword_mode="absent")
            assert (result.outcome, result.cause) == (DOWN, FlipCause.KEYWORD_FAILED)
            assert result.error == (
                f"body cut at {MAX_BODY_BYTES} bytes; cannot tell the keyword 'maintenance' is absent"
            )

    def test_a_body_of_exactly_the_limit_is_read_whole(self, base_url):
        result = probe(url=long_page(base_url, MAX_BODY_BYTES), keyword="maintenance", keyword_mode="absent")
        assert (result.outcome, result.error) == (UP, "")
        late = long_page(base_url, MAX_BODY_BYTES, "maintenance", MAX_BODY_BYTES - len("maintenance"))
        assert probe(url=late, keyword="maintenance", keyword_mode="absent").outcome == DOWN

    def test_a_keyword_present_before_the_cut_passes_and_after_it_fails_saying_where(self, base_url):
        size = MAX_BODY_BYTES + 200_000
        before = probe(url=long_page(base_url, size, "operational", 900_000), keyword="operational")
        assert (before.outcome, before.error) == (UP, "")
        after = probe(url=long_page(base_url, size, "operational", MAX_BODY_BYTES + 100), keyword="operational")
        assert (after.outcome, after.cause) == (DOWN, FlipCause.KEYWORD_FAILED)
        assert (
            after.error
            == f"keyword 'operational' not found in the first {MAX_BODY_BYTES} bytes (the body was cut there)"
        )

    def test_a_cut_body_is_not_read_as_json(self, base_url):
        result = probe(url=long_page(base_url, MAX_BODY_BYTES + 1), json_path="status")
        assert (result.outcome, result.cause) == (DOWN, FlipCause.JSON_FAILED)
        assert result.error == f"body cut at {MAX_BODY_BYTES} bytes; too long to read as JSON"


def test_json_path_assertions(base_url):
    assert probe(url=f"{base_url}/json", json_path="status", json_expected="ok").outcome == UP
    assert probe(url=f"{base_url}/json", json_path="checks.0.ok", json_expected="true").outcome == UP
    wrong = probe(url=f"{base_url}/json", json_path="version", json_expected="4")
    assert (wrong.outcome, wrong.error) == (DOWN, "JSON version is '3', expected '4'")
    absent = probe(url=f"{base_url}/json", json_path="checks.5.ok")
    assert (absent.outcome, absent.error) == (DOWN, "JSON path 'checks.5.ok' not found")
    not_json = probe(url=f"{base_url}/ok", json_path="status")
    assert not_json.error == "body is not JSON"
    assert wrong.cause == absent.cause == not_json.cause == FlipCause.JSON_FAILED


def test_method_headers_and_body_are_sent(base_url, monkeypatch):
    result = probe(
        url=f"{base_url}/echo",
        method="POST",
        body='{"ping": 1}',
        headers={"X-Probe": "yes"},
        json_path="body",
        json_expected='{"ping": 1}',
    )
    assert result.outcome == UP, result.error
    assert probe(url=f"{base_url}/echo", method="PUT", json_path="method", json_expected="PUT").outcome == UP
    assert (
        probe(url=f"{base_url}/echo", headers={"X-Probe": "yes"}, json_path="x_probe", json_expected="yes").outcome
        == UP
    )


def test_basic_and_bearer_auth_read_the_secret_from_the_environment(base_url, monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN", "s3cret")
    url = f"{base_url}/secret"
    assert probe(url=url, accepted_statuses="200").outcome == DOWN
    assert probe(url=url, accepted_statuses="200", auth_kind="bearer", auth_secret_env="SHOP_TOKEN").outcome == UP
    assert (
        probe(
            url=url, accepted_statuses="200", auth_kind="basic", auth_username="watcher", auth_secret_env="SHOP_TOKEN"
        ).outcome
        == UP
    )
    unset = probe(url=url, auth_kind="bearer", auth_secret_env="NOT_SET_ANYWHERE")
    assert (unset.outcome, unset.error) == (DOWN, "environment variable NOT_SET_ANYWHERE is not set")
    assert unset.cause == FlipCause.CONFIG_ERROR


def test_slower_than_the_threshold_is_degraded_not_down(base_url):
    slow = probe(url=f"{base_url}/slow?ms=150", degraded_after_ms=50)
    assert (slow.outcome, slow.cause) == (DEGRADED, FlipCause.SLOW)
    assert slow.error.startswith("slow: ") and slow.latency_ms >= 150
    assert probe(url=f"{base_url}/slow?ms=1", degraded_after_ms=2000).outcome == UP


def test_a_timeout_is_down_and_says_so(base_url):
    result = probe(url=f"{base_url}/slow?ms=700", timeout_seconds=0.2)
    assert (result.outcome, result.error, result.cause) == (DOWN, "timed out after 0.2 s", FlipCause.TIMEOUT)


def test_a_refused_connection_is_down(base_url):
    from tests.monitoring.uptime.servers import closed_port

    port = closed_port()
    result = probe(url=f"http://127.0.0.1:{port}/")
    # What a person reads on the target and in the alert: the failure and where, and no
    # "ssl:default" (aiohttp's text names the TLS setting even for plain http).
    assert (result.outcome, result.error) == (DOWN, f"connection refused to 127.0.0.1:{port}")
    assert result.cause == FlipCause.CONNECTION_FAILED


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"), not_after=expiry)
    with serve_http(http_app(), ssl_context=server_tls_context(cert, key)) as url:
        yield url, expiry


class TestHttps:
    def test_a_self_signed_certificate_fails_verification(self, tls_server):
        url, _ = tls_server
        result = probe(url=f"{url}/ok")
        assert result.outcome == DOWN and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert result.cause == FlipCause.TLS_ERROR

    def test_with_verification_off_the_probe_passes_and_records_the_expiry(self, tls_server):
        url, expiry = tls_server
        result = probe(url=f"{url}/ok", verify_tls=False)
        assert result.outcome == UP
        assert result.cert_expires_at == expiry

    def test_the_expiry_is_recorded_also_for_bodiless_responses(self, tls_server):
        url, expiry = tls_server
        assert probe(url=f"{url}/status/204", verify_tls=False, method="GET").cert_expires_at == expiry
