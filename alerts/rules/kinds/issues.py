"""What the error-tracking kinds share: one sample per issue, labelled so a person knows which,
and the shape of the kinds that alert on issues appearing in a window (new, regressed)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample, params_error
from monitoring.errors.models import Category, IssueSeverity
from monitoring.errors.selectors import IssueEventCount

if TYPE_CHECKING:
    from alerts.models import AlertRule


# The params every error kind takes to route on the issue's classification.
CLASSIFICATION_EXAMPLE: dict[str, Any] = {"categories": [], "min_severity": None, "severity_from_issue": False}


def issue_sample(issue: IssueEventCount, *, value: float) -> Sample:
    # The classification travels as labels so it reaches every notification and a
    # silence or route can match it; "" (unclassified) is left out rather than sent empty.
    classified = {"category": issue.category, "issue_severity": issue.severity}
    return Sample(
        labels={
            "issue_id": str(issue.issue_id),
            "issue": issue.title[:120],
            "issue_project": issue.project_slug,
            **{name: value for name, value in classified.items() if value},
        },
        value=value,
        breached=True,
        detail={"level": issue.level, "events": issue.events},
    )


class ClassifiedIssues(RuleKind):
    """What the error kinds share to route on an issue's classification: only some categories,
    only from some severity up, and optionally the incident taking the issue's severity
    (a login failure pages at "critical" where a validation error stays "low")."""

    @classmethod
    def classification_params(cls, p: Params) -> dict[str, Any]:
        categories = p.raw.get("categories") or []
        if not isinstance(categories, list):
            raise params_error("categories", f"must be a list of {', '.join(Category.values)}")
        cleaned = p.choices("categories", Category.values, default=[]) if categories else []
        minimum = p.raw.get("min_severity") or None
        if minimum is not None:
            minimum = p.text("min_severity", choices=IssueSeverity.values)
        return {
            "categories": cleaned,
            "min_severity": minimum,
            "severity_from_issue": p.boolean("severity_from_issue"),
        }

    @classmethod
    def classification_fields(cls) -> dict[str, Any]:
        return {
            "categories": f.checkboxes_field(
                tuple(Category.values), required=False, label="Categories", help_text="None ticked: every category."
            ),
            "min_severity": f.choice_field(
                [("", "any, unclassified too"), *IssueSeverity.choices],
                required=False,
                label="Issue severity at least",
            ),
            "severity_from_issue": f.switch_field(
                label="Incident takes the issue's severity",
                help_text="Otherwise the rule's severity; an unclassified issue keeps the rule's.",
            ),
        }

    @classmethod
    def classification_filter(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The selector's keyword arguments for the params' routing."""
        return {"categories": params.get("categories") or None, "min_severity": params.get("min_severity")}

    @classmethod
    def alert_severity(cls, params: dict[str, Any], labels: dict[str, str]) -> str | None:
        if params.get("severity_from_issue"):
            return labels.get("issue_severity") or None
        return None

    @classmethod
    def describe_classification(cls, params: dict[str, Any]) -> str:
        parts = []
        if params.get("categories"):
            parts.append(", ".join(c.replace("_", " ") for c in params["categories"]))
        if params.get("min_severity"):
            parts.append(f"severity {params['min_severity']} or worse")
        return f" ({'; '.join(parts)})" if parts else ""


class IssuesInWindow(ClassifiedIssues):
    """Each issue that `select` finds in the window alerts while it is in it, then resolves."""

    example = {"window_minutes": 5, "should_alert_only": False, **CLASSIFICATION_EXAMPLE}
    missing_is_ok = True
    happened = ""  # for describe(): "new issue", "issue regressed"
    # The selector: (project_id, since, until, should_alert_only) -> the issues to alert on.
    select: Callable[..., list[IssueEventCount]]

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {
            "window_minutes": p.integer("window_minutes", default=5, maximum=7 * 24 * 60),
            "should_alert_only": p.boolean("should_alert_only"),
            **cls.classification_params(p),
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "window_minutes": f.window_field(initial=5, help_text="Alert while the issue is this recent."),
            "should_alert_only": f.switch_field(
                label="Only issues marked to alert", help_text="Skip issues whose alerts are turned off."
            ),
            **cls.classification_fields(),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        since = now - timedelta(minutes=rule.params["window_minutes"])
        issues = cls.select(
            project_id=rule.project_id,
            since=since,
            until=now,
            should_alert_only=rule.params.get("should_alert_only", False),
            **cls.classification_filter(rule.params),
        )
        return [issue_sample(a, value=a.events) for a in issues]

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "events"

    @classmethod
    def describe(cls, params: dict) -> str:
        return f"{cls.happened} in the last {params['window_minutes']} min{cls.describe_classification(params)}"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "new issue: TypeError: x is undefined (3 events in the last 5 min)"."""
        issue = labels.get("issue")
        if not issue:
            return None
        events = int(value) if value is not None else detail.get("events")
        counted = f" ({events} event{'s' if events != 1 else ''} in the last {params['window_minutes']} min)"
        return f"{cls.happened}: {issue}{counted if events is not None else ''}"
