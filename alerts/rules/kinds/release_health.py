"""The health of a release: its crash-free sessions or users, or its session error rate, in percent."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import OPERATORS, SYMBOLS, Params, RuleKind, Sample
from monitoring.errors.selectors import Health, latest_release, release_health

if TYPE_CHECKING:
    from alerts.models import AlertRule

MEASURES = {
    "crash_free_sessions": lambda h: None if h.crash_free_sessions is None else 100 * h.crash_free_sessions,
    "crash_free_users": lambda h: None if h.crash_free_users is None else 100 * h.crash_free_users,
    # Sessions that ended with an error, handled or not: the release's error rate.
    "session_error_rate": lambda h: 100 * (h.errored + h.crashed) / h.sessions if h.sessions else None,
}


class ReleaseHealthThreshold(RuleKind):
    kind = "release_health"
    label = "Error tracking: error rate of a release"
    example = {
        "release": "",
        "environment": "",
        "measure": "crash_free_sessions",
        "operator": "lt",
        "threshold": 99.5,
        "min_sessions": 100,
    }
    # Release health is kept per day without times within it: there is no history to replay.
    replayable = False

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {
            "release": p.text("release", default="", max_length=250),
            "environment": p.text("environment", default="", max_length=64),
            "measure": p.text("measure", default="crash_free_sessions", choices=MEASURES),
            "operator": p.text("operator", default="lt", choices=OPERATORS),
            "threshold": p.number("threshold", minimum=0, maximum=100),
            "min_sessions": p.integer("min_sessions", default=0, minimum=0),
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "release": f.text_field(required=False, max_length=250, help_text="Empty: the latest release."),
            "environment": f.text_field(required=False, max_length=64, placeholder="production"),
            "measure": f.choice_field([(m, m.replace("_", " ")) for m in MEASURES], initial="crash_free_sessions"),
            "operator": f.operator_field(initial="lt"),
            "threshold": f.number_field(unit="%"),
            "min_sessions": f.whole_field(
                unit="sessions", initial=100, help_text="Below this, the release has no data yet."
            ),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        params = rule.params
        project = rule.project
        if project is None:
            raise ValueError("a release rule needs a project")
        release = params.get("release") or latest_release(project=project)
        if not release:
            return []
        health: Health = release_health(project=project, release=release, environment=params.get("environment") or None)
        value = MEASURES[params["measure"]](health) if health.sessions >= params.get("min_sessions", 0) else None
        labels = {"release": release}
        if value is None:
            return [Sample(labels=labels, value=None, breached=False)]
        return [
            Sample(
                labels=labels,
                value=value,
                breached=OPERATORS[params["operator"]](value, params["threshold"]),
                detail={"sessions": health.sessions, "crashed": health.crashed, "errored": health.errored},
            )
        ]

    @classmethod
    def needs_project(cls, params: dict) -> bool:
        return True

    @classmethod
    def describe(cls, params: dict) -> str:
        return (
            f"{params['measure'].replace('_', ' ')} of {params.get('release') or 'the latest release'} "
            f"{SYMBOLS[params['operator']]} {params['threshold']:g} %"
        )

    @classmethod
    def explain(cls, params: dict, labels: dict[str, str], value: float | None, detail: dict) -> str | None:
        """ "shop@1.4 crash free sessions 97.2 % < 99.5 % (1,204 sessions)"."""
        release, measure = labels.get("release") or "the latest release", params["measure"].replace("_", " ")
        if value is None:
            return f"{release} {measure}: too few sessions yet (under {params.get('min_sessions', 0)})"
        sessions = f" ({detail['sessions']:,} sessions)" if "sessions" in detail else ""
        return f"{release} {measure} {value:.4g} % {SYMBOLS[params['operator']]} {params['threshold']:g} %{sessions}"
