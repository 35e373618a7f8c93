"""What the error-tracking kinds share: one sample per issue, labelled so a person knows which,
and the shape of the kinds that alert on issues appearing in a window (new, regressed)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from monitoring.errors.selectors import IssueEventCount

if TYPE_CHECKING:
    from alerts.models import AlertRule


def issue_sample(issue: IssueEventCount, *, value: float) -> Sample:
    return Sample(
        labels={
            "issue_id": str(issue.issue_id),
            "issue": issue.title[:120],
            "issue_project": issue.project_slug,
        },
        value=value,
        breached=True,
        detail={"level": issue.level, "events": issue.events},
    )


class IssuesInWindow(RuleKind):
    """Each issue that `select` finds in the window alerts while it is in it, then resolves."""

    example = {"window_minutes": 5, "should_alert_only": False}
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
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "window_minutes": f.window_field(initial=5, help_text="Alert while the issue is this recent."),
            "should_alert_only": f.switch_field(
                label="Only issues marked to alert", help_text="Skip issues whose alerts are turned off."
            ),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        since = now - timedelta(minutes=rule.params["window_minutes"])
        issues = cls.select(
            project_id=rule.project_id,
            since=since,
            until=now,
            should_alert_only=rule.params.get("should_alert_only", False),
        )
        return [issue_sample(a, value=a.events) for a in issues]

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "events"

    @classmethod
    def describe(cls, params: dict) -> str:
        return f"{cls.happened} in the last {params['window_minutes']} min"

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
