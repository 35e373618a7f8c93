"""What an alert's title says, kind by kind: the cause and the observed value in words, never
"value 5.2 (target=…)". Each kind's explain() is called as the evaluator calls it."""

import pytest

from alerts.rules.kinds.certificate import CertificateExpiry
from alerts.rules.kinds.metric_threshold import MetricThreshold
from alerts.rules.kinds.release_health import ReleaseHealthThreshold
from alerts.rules.kinds.slo_burn_rate import SloBurnRate
from alerts.rules.kinds.target_status import TargetDown


def test_a_down_target_reads_cause_first_with_the_probe_count():
    detail = {"status": "down", "reason": "down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)"}
    assert (
        TargetDown.explain({"statuses": ["down"]}, {"target": "storefront"}, 1.0, detail)
        == "storefront down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)"
    )


def test_a_slow_checkout_reads_in_seconds_against_its_threshold():
    params = MetricThreshold.validate_params(
        {"metric": "checkout.latency", "agg": "p95", "operator": "gt", "threshold": 2000, "window_minutes": 10}
    )
    assert MetricThreshold.explain(params, {}, 2800.0, {}) == "checkout.latency p95 2.8 s > 2 s over 10 min"


@pytest.mark.parametrize(
    ("days_left", "says"),
    [
        (5.2, "shop.example certificate expires in 5 days (on 2026-03-07), under 14 days"),
        (0.5, "shop.example certificate expires in 12 h (on 2026-03-07), under 14 days"),
        (-2.0, "shop.example certificate expired 2 days ago (on 2026-03-07)"),
    ],
)
def test_a_certificate_says_how_long_it_has_left(days_left, says):
    detail = {"expires_at": "2026-03-07T10:00:00+00:00"}
    assert CertificateExpiry.explain({"days": 14}, {"target": "shop.example"}, days_left, detail) == says


def test_a_release_says_its_rate_against_the_threshold_and_its_sessions():
    params = {"measure": "crash_free_sessions", "operator": "lt", "threshold": 99.5, "min_sessions": 100}
    assert (
        ReleaseHealthThreshold.explain(params, {"release": "shop@1.4"}, 97.2, {"sessions": 1204})
        == "shop@1.4 crash free sessions 97.2 % < 99.5 % (1,204 sessions)"
    )
    assert ReleaseHealthThreshold.explain(params, {"release": "shop@1.4"}, None, {}) == (
        "shop@1.4 crash free sessions: too few sessions yet (under 100)"
    )


def test_an_slo_says_both_burn_rates_and_the_factor():
    params = {"sli": "availability_uptime", "objective": 99.9, "preset": "page"}
    detail = {"burn_rate_long": 16.23, "burn_rate_short": 20.0}
    said = SloBurnRate.explain(params, {}, 16.23, detail)
    assert said is not None and said.startswith("availability uptime SLO 99.9 % burning 16.2× over 1 h and 20× over")
    assert said.endswith("(alerting above 14.4×)")
