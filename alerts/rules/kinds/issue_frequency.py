"""An issue seen N times in M minutes: any issue of the project, or only those named."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, Sample
from alerts.rules.kinds.issues import CLASSIFICATION_EXAMPLE, ClassifiedIssues, issue_sample
from monitoring.errors.selectors import error_issues_frequent

if TYPE_CHECKING:
    from alerts.models import AlertRule


class IssueFrequency(ClassifiedIssues):
    kind = "error_frequency"
    label = "Error tracking: an issue seen N times in M minutes"
    example = {
        "count": 100,
        "window_minutes": 10,
        "should_alert_only": False,
        "issue_ids": None,
        **CLASSIFICATION_EXAMPLE,
    }
    # An issue below N is not listed: it has simply cleared.
    missing_is_ok = True

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {
            "count": p.integer("count"),
            "window_minutes": p.integer("window_minutes", maximum=7 * 24 * 60),
            "should_alert_only": p.boolean("should_alert_only"),
            **cls.classification_params(p),
            # Only when issues are named: a rule over any issue keeps the params it always had.
            **({"issue_ids": named} if (named := p.ids("issue_ids")) else {}),
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "count": f.whole_field(unit="events", label="Seen at least", initial=100),
            "window_minutes": f.window_field(initial=10),
            "should_alert_only": f.switch_field(
                label="Only issues marked to alert", help_text="Skip issues whose alerts are turned off."
            ),
            "issue_ids": f.issue_picker_field(project_id=project_id),
            **cls.classification_fields(),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        params = rule.params
        since = now - timedelta(minutes=params["window_minutes"])
        issues = error_issues_frequent(
            project_id=rule.project_id,
            since=since,
            until=now,
            at_least=params["count"],
            should_alert_only=params.get("should_alert_only", False),
            **cls.classification_filter(params),
        )
        named = params.get("issue_ids")
        return [issue_sample(a, value=a.events) for a in issues if not named or a.issue_id in named]

    @classmethod
    def threshold(cls, params: dict) -> float | None:
        return params.get("count")

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "events"

    @classmethod
    def describe(cls, params: dict) -> str:
        which = f"one of {len(params['issue_ids'])} named issues" if params.get("issue_ids") else "an issue"
        seen = f"{which} seen at least {params['count']} times in {params['window_minutes']} min"
        return seen + cls.describe_classification(params)

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "TypeError: x is undefined: 140 events in 10 min (≥ 100)"."""
        issue = labels.get("issue")
        if not issue or value is None:
            return None
        return f"{issue}: {value:g} events in {params['window_minutes']} min (≥ {params['count']})"
