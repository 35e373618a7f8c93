"""SLO burn rate: the multi-window maths, and rules over uptime rollups and metric histograms."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import RuleTransition
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.kinds.slo_burn_rate import PRESETS, burn_rate, window_burn_rates
from monitoring.models import TargetRollup, TargetRollupCursor
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute
from tests.monitoring.uptime.factories import TargetFactory

NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_presets_spend_two_and_five_percent_of_a_thirty_day_budget():
    page, ticket = PRESETS["page"], PRESETS["ticket"]
    assert (page.factor, page.long, page.short) == (14.4, timedelta(hours=1), timedelta(minutes=5))
    assert (ticket.factor, ticket.long, ticket.short) == (6, timedelta(hours=6), timedelta(minutes=30))
    assert page.budget_spent == pytest.approx(0.02)
    assert ticket.budget_spent == pytest.approx(0.05)


def test_burn_rate_is_the_error_rate_over_the_budget():
    # 99.9 %: a budget of 0.1 %. 1.44 % of requests failing burns it 14.4 times too fast.
    assert burn_rate(good=9856, total=10_000, objective_pct=99.9) == pytest.approx(14.4)
    assert burn_rate(good=10_000, total=10_000, objective_pct=99.9) == 0
    assert burn_rate(good=0, total=0, objective_pct=99.9) is None


def test_both_windows_must_exceed():
    page = PRESETS["page"]
    # 55 clean minutes then 5 minutes at 20 % errors: the short window burns at 200×,
    # the hour at 200 × 5/60 ≈ 16.7× — both over 14.4.
    recent = [(1000.0, 1000.0)] * 55 + [(800.0, 1000.0)] * 5
    long_rate, short_rate = window_burn_rates(recent, preset=page, objective_pct=99.9)
    assert long_rate == pytest.approx(200 * 5 / 60) and short_rate == pytest.approx(200)
    # The same five bad minutes an hour's end ago, then calm: the hour still burns, the 5 m does not.
    earlier = [(800.0, 1000.0)] * 5 + [(1000.0, 1000.0)] * 55
    long_rate, short_rate = window_burn_rates(earlier, preset=page, objective_pct=99.9)
    assert long_rate > page.factor and short_rate == 0


def _uptime_minutes(target, start, minutes, *, up_of_60):
    TargetRollup.objects.bulk_create(
        TargetRollup(
            target_id=target.pk,
            resolution=60,
            bucket_start=start + i * MINUTE,
            count=60,
            up_count=up_of_60(i),
            degraded_count=0,
            latency_count=0,
            latency_sum=0,
            histogram={},
        )
        for i in range(minutes)
    )


def test_availability_from_uptime_rollups_pages_when_both_windows_burn(project, tick, signals):
    target = TargetFactory(project=project, name="API", status="up")
    start = NOW.replace(second=0) - 60 * MINUTE
    # 99.9 % objective; the last 5 minutes lose 12 of 60 probes (20 %).
    _uptime_minutes(target, start, 60, up_of_60=lambda i: 48 if i >= 55 else 60)
    TargetRollupCursor.objects.create(resolution=60, done_until=NOW.replace(second=0))
    rule = RuleFactory(
        project=project,
        kind="slo_burn_rate",
        next_evaluation_at=NOW,
        severity="critical",
        params=RULE_KINDS["slo_burn_rate"].validate_params(
            {"sli": "availability_uptime", "objective": 99.9, "preset": "page"}
        ),
    )

    tick(NOW)

    [signal] = signals
    assert signal.value == pytest.approx(200 * 5 / 60, rel=1e-3)
    transition = RuleTransition.objects.get(rule=rule)
    assert transition.values["burn_rate_short"] == pytest.approx(200)
    assert transition.values["threshold"] == 14.4


def test_uptime_windows_end_where_the_minute_rollups_do(project, tick, signals):
    """Minute rollups settle behind the probes: an unrolled minute is not a perfect one."""
    target = TargetFactory(project=project, name="API", status="up")
    start = NOW.replace(second=0) - 63 * MINUTE
    # Three minutes of nothing answering, then two good ones, all rolled up by 11:57; the
    # three minutes since are not. Read up to now, the 5 m window would see only the good two.
    _uptime_minutes(target, start, 60, up_of_60=lambda i: 0 if 55 <= i <= 57 else 60)
    TargetRollupCursor.objects.create(resolution=60, done_until=start + 60 * MINUTE)
    RuleFactory(
        project=project,
        kind="slo_burn_rate",
        next_evaluation_at=NOW,
        params=RULE_KINDS["slo_burn_rate"].validate_params(
            {"sli": "availability_uptime", "objective": 99.9, "preset": "page"}
        ),
    )
    tick(NOW)
    assert len(signals) == 1


def test_latency_slo_from_the_metric_histogram(project, tick, signals):
    series = metric_series(project, "http.latency", {"route": "/"}, kind="distribution")
    start = NOW.replace(second=0) - 6 * 60 * MINUTE
    for i in range(6 * 60):
        # 99 % objective under 500 ms; the last half hour is 10 % slow (10× the budget).
        slow = 10 if i >= 330 else 0
        put_minute(series, start + i * MINUTE, *([100.0] * (100 - slow) + [900.0] * slow))
    page = RuleFactory(
        project=project,
        kind="slo_burn_rate",
        next_evaluation_at=NOW,
        params=RULE_KINDS["slo_burn_rate"].validate_params(
            {"sli": "latency", "objective": 99, "preset": "page", "metric": "http.latency", "threshold_ms": 500}
        ),
    )
    ticket = RuleFactory(
        project=project, kind="slo_burn_rate", next_evaluation_at=NOW, params={**page.params, "preset": "ticket"}
    )

    tick(NOW)

    # 10× is under the page's 14.4×; the ticket's 6 h burns 10 × 30/360 ≈ 0.83×: neither fires.
    assert signals == []
    assert RuleTransition.objects.count() == 0
    # The last hour slower still: 30 % slow from 40 minutes ago.
    for i in range(320, 360):
        put_minute(series, start + i * MINUTE, *([100.0] * 70 + [900.0] * 30))
    tick(NOW + MINUTE)
    fired = {s.rule_id for s in signals}
    assert page.pk in fired
    long_rate = RuleTransition.objects.get(rule=page).values["burn_rate_long"]
    assert long_rate == pytest.approx(30 * 40 / 60, rel=0.05)  # 40 of the hour's 60 minutes at 30×
    # The ticket's 6 h window burns at only about 40 × 30 / 358 ≈ 3.4×, under its 6×.
    assert ticket.pk not in fired
