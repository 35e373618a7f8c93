"""Timeline tests in the manner of Prometheus rule unit tests: a series goes in minute by
minute, the evaluator ticks every minute under a frozen clock, and the states, transitions
and alerts that come out are checked minute by minute."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import AlertRule, RuleInstance, RuleTransition
from alerts.rules.kinds import metric_threshold
from alerts.rules.kinds.metric_threshold import MetricThreshold
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(minute: int) -> datetime:
    """Half way into the minute: a 1-minute window then reads exactly that minute."""
    return T0 + minute * MINUTE + timedelta(seconds=30)


def load(series, values: str) -> None:
    """'50 90 _ 90': one value per minute from T0; '_' is a minute with no data."""
    for minute, value in enumerate(values.split()):
        if value != "_":
            put_minute(series, T0 + minute * MINUTE, float(value))


def states(rule, tick, minutes: int) -> list[str]:
    seen = []
    for minute in range(minutes):
        tick(at(minute))
        instance = RuleInstance.objects.filter(rule=rule).first()
        seen.append(instance.state if instance else "inactive")
    return seen


def make_rule(project, **fields):
    params = {
        "metric": "cpu",
        "tags": {},
        "agg": "avg",
        "window_minutes": 1,
        "operator": "gt",
        "threshold": 80,
        **fields.pop("params", {}),
    }
    fields.setdefault("next_evaluation_at", T0)
    return RuleFactory(project=project, name="CPU high", params=MetricThreshold.validate_params(params), **fields)


def test_pending_for_the_duration_then_firing_then_resolved(project, tick, signals):
    load(metric_series(project, "cpu"), "50 90 90 90 90 50 50")
    rule = make_rule(project, for_seconds=120)

    assert states(rule, tick, 7) == ["inactive", "pending", "pending", "firing", "firing", "resolved", "resolved"]

    transitions = list(RuleTransition.objects.filter(rule=rule).order_by("at"))
    assert [(t.at, t.from_state, t.to_state) for t in transitions] == [
        (at(1), "inactive", "pending"),
        (at(3), "pending", "firing"),
        (at(5), "firing", "resolved"),
    ]
    assert transitions[0].values == {"value": 90.0, "threshold": 80.0}
    assert "breaches" in transitions[0].reason and "recovered" in transitions[2].reason
    assert [(s.status, s.at) for s in signals] == [("firing", at(3)), ("resolved", at(5))]


def test_a_breach_shorter_than_the_duration_never_fires(project, tick, signals):
    load(metric_series(project, "cpu"), "90 90 50 90 50")
    rule = make_rule(project, for_seconds=180)

    assert states(rule, tick, 5) == ["pending", "pending", "inactive", "pending", "inactive"]
    assert signals == []


def test_for_zero_fires_at_once(project, tick, signals):
    load(metric_series(project, "cpu"), "90")
    rule = make_rule(project)
    assert states(rule, tick, 1) == ["firing"]
    assert [(t.from_state, t.to_state) for t in RuleTransition.objects.filter(rule=rule)] == [("inactive", "firing")]
    assert signals[0].status == "firing"


def test_keep_firing_for_holds_the_alert_after_the_condition_clears(project, tick, signals):
    load(metric_series(project, "cpu"), "90 50 90 50 50 50 50")
    rule = make_rule(project, keep_firing_for_seconds=120)

    # The breach at minute 2 restarts the hold; it ends two minutes after minute 3.
    assert states(rule, tick, 7) == ["firing", "firing", "firing", "firing", "firing", "resolved", "resolved"]
    assert [s.status for s in signals] == ["firing", "resolved"]


def test_recovery_threshold_keeps_firing_until_recovered(project, tick, signals):
    load(metric_series(project, "cpu"), "90 75 65 55 75 85")
    rule = make_rule(project, params={"recovery_threshold": 60})

    # 75 and 65 no longer breach 80 but have not recovered below 60; 75 after recovery does not re-fire.
    assert states(rule, tick, 6) == ["firing", "firing", "firing", "resolved", "resolved", "firing"]
    assert [s.status for s in signals] == ["firing", "resolved", "firing"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("keep", ["firing", "firing", "firing", "resolved"]),
        ("ok", ["firing", "resolved", "resolved", "resolved"]),
        ("alert", ["firing", "firing", "firing", "resolved"]),
    ],
)
def test_no_data_policies(project, tick, policy, expected):
    load(metric_series(project, "cpu"), "90 _ _ 50")
    rule = make_rule(project, no_data_policy=policy)
    assert states(rule, tick, 4) == expected


def test_no_data_alert_after_ok_fires_on_silence(project, tick, signals):
    load(metric_series(project, "cpu"), "50 _ _")
    rule = make_rule(project, no_data_policy="alert", for_seconds=60)
    assert states(rule, tick, 3) == ["inactive", "pending", "firing"]
    firing = RuleTransition.objects.get(rule=rule, to_state="firing")
    assert firing.reason.startswith("no data")


def test_a_missing_metric_triggers_the_no_data_policy_not_an_exception(project, tick, signals):
    alerting = make_rule(project, params={"metric": "does.not.exist"}, no_data_policy="alert")
    quiet = make_rule(project, params={"metric": "does.not.exist"}, no_data_policy="ok")

    tick(at(0))

    alerting.refresh_from_db()
    quiet.refresh_from_db()
    assert alerting.last_error == "" and quiet.last_error == ""
    assert RuleInstance.objects.get(rule=alerting).state == "firing"
    assert not RuleInstance.objects.filter(rule=quiet).exists()
    [signal] = signals
    assert signal.labels["alertname"] == "CPU high" and "no data" in signal.summary


def test_an_error_applies_the_error_policy_and_is_recorded(project, tick, signals, monkeypatch):
    load(metric_series(project, "cpu"), "90 90 90 50")
    rule = make_rule(project, error_policy="keep")
    real = metric_threshold.query_batch

    def flaky(project, requests, *, end):
        if end == at(1):
            raise RuntimeError("database went away")
        return real(project, requests, end=end)

    monkeypatch.setattr(metric_threshold, "query_batch", flaky)
    seen = []
    for minute in range(4):
        tick(at(minute))
        rule.refresh_from_db()
        seen.append((RuleInstance.objects.get(rule=rule).state, rule.last_error))
    assert seen == [("firing", ""), ("firing", "RuntimeError: database went away"), ("firing", ""), ("resolved", "")]


def test_error_policy_ok_resolves_a_firing_rule_and_records_the_error(project, tick, signals, monkeypatch):
    load(metric_series(project, "cpu"), "90 90")
    rule = make_rule(project, error_policy="ok")
    tick(at(0))
    monkeypatch.setattr(metric_threshold, "query_batch", lambda project, requests, *, end: 1 / 0)
    tick(at(1))
    rule.refresh_from_db()
    assert RuleInstance.objects.get(rule=rule).state == "resolved"
    assert rule.last_error == "ZeroDivisionError: division by zero"
    assert [s.status for s in signals] == ["firing", "resolved"]


def test_error_policy_alert_raises_an_alert_on_the_rule(project, tick, signals, monkeypatch):
    rule = make_rule(project, error_policy="alert")
    monkeypatch.setattr(metric_threshold, "query_batch", lambda project, requests, *, end: 1 / 0)
    tick(at(0))
    assert RuleInstance.objects.get(rule=rule).state == "firing"
    assert RuleTransition.objects.get(rule=rule).values == {"error": "ZeroDivisionError: division by zero"}
    assert signals[0].status == "firing"


def test_grouped_by_tag_one_alert_per_value(project, tick, signals):
    load(metric_series(project, "cpu", {"host": "a", "core": "1"}), "95 95")
    load(metric_series(project, "cpu", {"host": "a", "core": "2"}), "75 50")  # host a: avg 85, then 72.5
    load(metric_series(project, "cpu", {"host": "b", "core": "1"}), "60 99")
    rule = make_rule(project, params={"group_by_tag": "host"}, group_by=["host"], labels={"team": "infra"})

    tick(at(0))
    assert {i.labels["host"]: i.state for i in RuleInstance.objects.filter(rule=rule)} == {"a": "firing"}
    tick(at(1))
    assert {i.labels["host"]: i.state for i in RuleInstance.objects.filter(rule=rule)} == {
        "a": "resolved",
        "b": "firing",
    }

    first = signals[0]
    assert first.labels == {
        "host": "a",
        "team": "infra",
        "alertname": "CPU high",
        "severity": "high",
        "rule_id": str(rule.pk),
        "project": "shop",
    }
    assert first.dedup_key == f"rule:{rule.pk}:a"
    assert first.source == "rule" and first.rule_id == rule.pk and first.project_id == project.pk
    assert first.value == pytest.approx(85)
    assert [(s.labels["host"], s.status) for s in signals] == [("a", "firing"), ("a", "resolved"), ("b", "firing")]
    # The same instance keeps one fingerprint from firing to resolved.
    assert signals[0].fingerprint == signals[1].fingerprint != signals[2].fingerprint


def test_per_series_one_alert_per_series_without_group_by_uses_the_fingerprint(project, tick, signals):
    load(metric_series(project, "cpu", {"host": "a"}), "95")
    load(metric_series(project, "cpu", {"host": "b"}), "99")
    rule = make_rule(project, params={"per_series": True})
    tick(at(0))
    assert sorted(s.labels["host"] for s in signals) == ["a", "b"]
    assert {s.dedup_key for s in signals} == {f"rule:{rule.pk}:{s.fingerprint}" for s in signals}


def test_tags_filter_the_series(project, tick, signals):
    load(metric_series(project, "cpu", {"host": "a"}), "95")
    load(metric_series(project, "cpu", {"host": "b"}), "10")
    make_rule(project, params={"tags": {"host": "b"}})
    tick(at(0))
    assert signals == []


def test_rules_evaluate_at_their_own_interval_and_disabled_ones_not_at_all(project, tick):
    load(metric_series(project, "cpu"), " ".join(["90"] * 10))
    every_five = make_rule(project, interval_seconds=300, for_seconds=0)
    make_rule(project, enabled=False)

    evaluated = [tick(at(minute)) for minute in range(10)]

    assert evaluated == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    every_five.refresh_from_db()
    assert every_five.next_evaluation_at == T0 + 10 * MINUTE
    assert every_five.last_evaluated_at == at(5)


def test_a_second_tick_at_the_same_moment_finds_nothing_due(project, tick):
    make_rule(project)
    assert tick(at(0)) == 1
    assert tick(at(0)) == 0


def test_p95_latency_above_two_seconds_from_ingested_points(project, tick, signals):
    """The seeds' example, through ingest and the rollup builder rather than written rollups."""
    rule = RuleFactory(
        project=project,
        name="Checkout slow",
        next_evaluation_at=T0,
        for_seconds=60,
        summary="p95 checkout latency is {value} ms",
        params=MetricThreshold.validate_params(
            {
                "metric": "http.latency",
                "tags": {"route": "/checkout"},
                "agg": "p95",
                "window_minutes": 5,
                "operator": "gt",
                "threshold": 2000,
            }
        ),
    )
    for minute in range(8):
        slow = minute >= 3
        points = [
            PointIn(
                name="http.latency",
                tags={"route": "/checkout"},
                timestamp=T0 + minute * MINUTE + timedelta(seconds=s),
                value=(2500.0 if slow and s % 10 == 0 else 300.0),
            )
            for s in range(0, 60, 5)
        ]
        telemetry_ingest(project=project, points=points)
        while rollups_build():
            pass
        tick(at(minute))

    # p95 over 5 minutes passes 2 s once enough slow minutes are in the window.
    [firing] = signals
    assert firing.status == "firing" and firing.summary.startswith("p95 checkout latency is 2")
    assert RuleTransition.objects.filter(rule=rule, to_state="pending").count() == 1


def test_a_failing_hand_over_stays_with_its_rule_and_is_retried(project, tick, signals, monkeypatch):
    import alerts.incidents.services.incidents as incidents

    load(metric_series(project, "cpu"), "90 90")
    load(metric_series(project, "mem"), "90 90")
    broken = make_rule(project, params={"metric": "mem"})
    fine = make_rule(project)
    refuse = {"on": True}

    def alerts_receive(*, signals: list, now):
        if refuse["on"] and any(s.rule_id == broken.pk for s in signals):
            raise RuntimeError("incidents unavailable")
        captured.extend(signals)
        return []

    captured = []
    monkeypatch.setattr(incidents, "alerts_receive", alerts_receive)

    tick(at(0))
    broken.refresh_from_db()
    assert [s.rule_id for s in captured] == [fine.pk]
    assert broken.last_error == "storing the evaluation failed: RuntimeError: incidents unavailable"
    assert not RuleInstance.objects.filter(rule=broken).exists()  # rolled back with the hand-over

    refuse["on"] = False
    tick(at(1))
    broken.refresh_from_db()
    assert [s.rule_id for s in captured] == [fine.pk, broken.pk] and broken.last_error == ""


def test_a_tick_costs_the_same_statements_for_ten_rules_as_for_one_hundred(project, tick):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for host in range(20):
        load(metric_series(project, "cpu", {"host": f"h{host}"}), "50 50")
    counts = []
    for minute, rules in ((0, 10), (1, 100)):
        AlertRule.objects.all().delete()
        for i in range(rules):
            make_rule(project, params={"tags": {"host": f"h{i % 20}"}}, next_evaluation_at=at(minute))
        with CaptureQueriesContext(connection) as queries:
            assert tick(at(minute)) == rules
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8


def test_a_latency_alert_reads_in_seconds_against_its_threshold():
    # What the incident title and every notification say: series, aggregate, value, threshold, window.
    params = MetricThreshold.validate_params(
        {
            "metric": "http.latency",
            "tags": {"route": "/checkout"},
            "agg": "p95",
            "threshold": 2000,
            "window_minutes": 10,
        }
    )
    said = MetricThreshold.explain(params, {}, 2800.0, {})
    assert said == "http.latency route=/checkout p95 2.8 s > 2 s over 10 min"
