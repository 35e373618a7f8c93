"""A regression: a resolved issue came back within the window."""

from datetime import datetime, timedelta

from alerts.rules.base import Params, RuleKind, Sample
from alerts.rules.issues import issue_sample
from monitoring.selectors.error_issues import error_issues_regressed


class Regression(RuleKind):
    kind = "error_regression"
    label = "Error tracking: a regression"
    example = {"window_minutes": 5, "should_alert_only": False}
    missing_is_ok = True

    @classmethod
    def validate_params(cls, params) -> dict:
        p = Params(params)
        p.unknown(cls.example)
        return {"window_minutes": p.integer("window_minutes", default=5, maximum=7 * 24 * 60),
                "should_alert_only": p.boolean("should_alert_only")}

    @classmethod
    def evaluate(cls, rule, now: datetime) -> list[Sample]:
        since = now - timedelta(minutes=rule.params["window_minutes"])
        issues = error_issues_regressed(project_id=rule.project_id, since=since, until=now,
                                        should_alert_only=rule.params.get("should_alert_only", False))
        return [issue_sample(a, value=a.events) for a in issues]

    @classmethod
    def describe(cls, params: dict) -> str:
        return f"issue regressed in the last {params['window_minutes']} min"
