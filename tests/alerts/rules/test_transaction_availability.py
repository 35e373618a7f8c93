"""An availability SLO straight on a transaction name: its failures over its count, as a burn rate."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import RuleTransition
from alerts.rules.kinds import RULE_KINDS
from monitoring.errors.transactions import FAILED
from monitoring.telemetry.services.rollups import rollups_build
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute
from tests.factories import make_ingest_key
from tests.monitoring.traces.conftest import send, span, span_item

NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
KIND = RULE_KINDS["transaction_availability"]


def _rule(project, **params):
    return RuleFactory(
        project=project,
        kind="transaction_availability",
        next_evaluation_at=NOW,
        params=KIND.validate_params({"transaction": "POST /checkout", "objective": 99.9, **params}),
    )


def _hour(project, failures_in_minute):
    """An hour of POST /checkout, 100 transactions a minute, as ingest's 0/1 points roll up."""
    series = metric_series(project, FAILED, {"transaction": "POST /checkout"})
    start = NOW.replace(second=0) - 60 * MINUTE
    for i in range(60):
        bad = failures_in_minute(i)
        put_minute(series, start + i * MINUTE, *([0.0] * (100 - bad) + [1.0] * bad))


def test_failures_of_the_last_minutes_page_when_both_windows_burn(project, tick, signals):
    _hour(project, lambda i: 20 if i >= 55 else 0)  # the last 5 minutes: 20 % failed
    rule = _rule(project)
    tick(NOW)
    [signal] = signals
    # 100 failed of the hour's ~6,000 (its window holds 59 whole minutes): 1.7 % against a 0.1 % budget.
    assert signal.value == pytest.approx(100 / 5900 / 0.001, rel=1e-3)
    transition = RuleTransition.objects.get(rule=rule)
    assert transition.values["burn_rate_short"] == pytest.approx(200)
    assert transition.values["threshold"] == 14.4
    explained = KIND.explain(rule.params, {"transaction": "POST /checkout"}, signal.value, transition.values)
    assert explained.startswith("POST /checkout availability SLO 99.9 %: 100 of 5,900 failed over 1 h")


def test_a_trickle_of_failures_inside_the_budget_does_not_page(project, tick, signals):
    _hour(project, lambda i: 1 if i % 10 == 0 else 0)  # 6 of 6,000: 0.1 %, the budget exactly
    _rule(project)
    tick(NOW)
    assert signals == []


def test_another_transactions_failures_do_not_count(project, tick, signals):
    _hour(project, lambda i: 0)
    other = metric_series(project, FAILED, {"transaction": "GET /health"})
    for i in range(60):
        put_minute(other, NOW.replace(second=0) - (60 - i) * MINUTE, *([1.0] * 50))
    _rule(project)
    tick(NOW)
    assert signals == []


def test_a_name_never_seen_gives_no_series(project):
    rule = _rule(project, transaction="GET /nowhere")
    assert KIND.evaluate(rule, NOW) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": 99.9}, "transaction: required"),
        ({"transaction": "GET /", "objective": 101}, "objective: must be at most 99.9999"),
        ({"transaction": "GET /", "objective": 99.9, "preset": "pager"}, "preset: 'pager' is not one of"),
        ({"transaction": "GET /", "objective": 99.9, "window": 5}, "window: not a parameter"),
    ],
)
def test_bad_params_name_the_field(params, message):
    with pytest.raises(ValidationError, match=message):
        KIND.validate_params(params)


@pytest.mark.django_db
def test_transactions_sent_by_an_sdk_drive_it(client, tick, signals):
    """Spans as sentry-python 3 streams them, through ingest and the rollups: 10 of 50 failed."""
    key = make_ingest_key().key
    start = time.time() - 5
    for n in range(50):
        root = span(
            "POST /checkout",
            trace_id=uuid.uuid4().hex,
            start=start,
            seconds=0.05,
            segment=True,
            op="http.server",
            status="error" if n % 5 == 0 else "ok",
        )
        send(client, key, span_item(root))
    later = timezone.now() + 2 * MINUTE
    rollups_build()
    rule = _rule(key.project)
    rule.next_evaluation_at = later
    rule.save(update_fields=["next_evaluation_at"])
    tick(later)
    [signal] = signals
    assert signal.value == pytest.approx(200)  # 20 % failed against a 0.1 % budget, in both windows
