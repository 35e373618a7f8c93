"""The preview replays a rule on history through the evaluator's own logic, writing nothing."""

from datetime import UTC, datetime, timedelta

from alerts.models import RuleInstance, RuleTransition
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.services.preview import preview_chart, rule_preview
from monitoring.common.charts import BAD, GOOD
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute
from tests.monitoring.errors.factories import store_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_new_issue_rule_counts_each_new_issue_of_the_week(project):
    for days_ago in (6, 3, 1):
        store_event(project, received_at=NOW - timedelta(days=days_ago), message=f"new {days_ago}")
    store_event(project, received_at=NOW - timedelta(days=9), message="too old")
    rule = RuleFactory(
        project=project,
        kind="error_new_issue",
        params=RULE_KINDS["error_new_issue"].validate_params({"window_minutes": 10}),
    )

    preview = rule_preview(rule=rule, now=NOW)

    assert preview.supported and preview.fired == 3
    assert preview.step == timedelta(minutes=10) and preview.evaluations == 7 * 24 * 6 + 1
    assert not RuleInstance.objects.exists() and not RuleTransition.objects.exists()


def test_the_pending_period_applies_in_the_replay(project):
    series = metric_series(project, "cpu")
    for minute in range(25):  # 25 minutes over the threshold: over a 20-minute for, under a 30-minute one
        put_minute(series, NOW - timedelta(days=2) + timedelta(minutes=minute), 99.0)
    base = {"metric": "cpu", "tags": {}, "agg": "max", "window_minutes": 10, "operator": "gt", "threshold": 80}
    short = RuleFactory(project=project, params=RULE_KINDS["metric_threshold"].validate_params(base), for_seconds=1200)
    long = RuleFactory(project=project, params=short.params, for_seconds=1800)

    assert rule_preview(rule=short, now=NOW).fired == 1
    assert rule_preview(rule=long, now=NOW).fired == 0


def test_the_chart_draws_the_value_the_threshold_and_the_firing_steps(project):
    series = metric_series(project, "cpu")
    put_minute(series, NOW - timedelta(hours=1), 99.0)
    rule = RuleFactory(
        project=project,
        params=RULE_KINDS["metric_threshold"].validate_params(
            {"metric": "cpu", "agg": "max", "window_minutes": 10, "operator": "gt", "threshold": 50}
        ),
        no_data_policy="ok",
    )  # the minutes around the one value have no data: that is OK here
    preview = rule_preview(rule=rule, now=NOW)
    chart = preview_chart(preview, unit="%")
    assert preview.fired == 1
    value, threshold = chart["series"]
    assert [v for _, v in value["points"] if v is not None] == [99.0]  # one step saw a value
    assert {v for _, v in threshold["points"]} == {50.0} and threshold["dashed"]
    # Fired at one step, resolved at the next: a red mark, then a green one.
    assert [(m["label"], m["color"]) for m in chart["markers"]] == [("fired", BAD), ("", GOOD)]
    assert chart["y"]["label"] == "Value (%)" and not chart.is_empty


def test_an_slo_replays_at_its_coarser_step(project):
    rule = RuleFactory(
        project=project,
        kind="slo_burn_rate",
        params=RULE_KINDS["slo_burn_rate"].validate_params(
            {"sli": "latency", "objective": 99.9, "metric": "http.latency", "threshold_ms": 500}
        ),
    )
    preview = rule_preview(rule=rule, now=NOW)
    assert preview.supported and preview.step == timedelta(minutes=30) and preview.fired == 0
