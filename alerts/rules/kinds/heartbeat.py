"""A heartbeat late, failed or over its runtime, told apart by the cause of its target's last flip.

The heartbeat detector and ping service (monitoring.heartbeats.services.pings) store the
cause with every flip: a late or missing ping is late, a run over max_runtime (finished or
still going) is over runtime, and any other down (a failure ping, an exit code, a run under
min_runtime) is a failed run. A degraded heartbeat is always late: nothing else degrades one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.targets import (
    SCOPE,
    PastState,
    StatusHistory,
    replay_samples,
    scope_params,
    target_labels,
    watched_targets,
)
from monitoring.uptime.models import FlipCause
from monitoring.uptime.selectors import latest_flips

if TYPE_CHECKING:
    from alerts.models import AlertRule

PROBLEMS = ("late", "failed", "over_runtime")
PROBLEM_OF_DOWN = {
    FlipCause.LATE: "late",
    FlipCause.MISSING: "late",
    FlipCause.OVER_RUNTIME: "over_runtime",
}


def heartbeat_problem(status: str, cause: FlipCause | None) -> str | None:
    """Which of PROBLEMS a heartbeat in `status`, last flipped for `cause`, has, if any."""
    if status == "degraded":
        return "late"
    if status != "down":
        return None
    return PROBLEM_OF_DOWN.get(cause, "failed") if cause is not None else "failed"


class HeartbeatProblem(RuleKind):
    kind = "heartbeat"
    label = "Uptime: a heartbeat late, failed or over its runtime"
    example = {"problems": list(PROBLEMS), **SCOPE}
    # Its evaluate reads the status as it is now; the preview replays the flips (replayer).

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {"problems": p.choices("problems", PROBLEMS, default=list(PROBLEMS)), **scope_params(p)}

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "problems": f.checkboxes_field(PROBLEMS, label="Alert when", initial=list(PROBLEMS)),
            **f.target_scope_fields(project_id=project_id, kinds=("heartbeat",)),
        }

    @classmethod
    def evaluate(cls, rule: AlertRule, now: datetime) -> list[Sample]:
        states = [s for s in watched_targets(rule, kinds=("heartbeat",)) if s.status not in ("paused", "unknown")]
        labels = target_labels(states)
        flips = latest_flips(target_ids=[s.target_id for s in states if s.status in ("down", "degraded")])
        wanted = rule.params.get("problems", list(PROBLEMS))
        samples = []
        for s in states:
            flip = flips.get(s.target_id)
            problem = heartbeat_problem(s.status, flip.cause if flip else None)
            breached = problem in wanted
            samples.append(
                Sample(
                    labels=labels[s.target_id],
                    value=1.0 if breached else 0.0,
                    breached=breached,
                    detail={
                        "status": s.status,
                        "problem": problem,
                        "cause": flip.cause.value if flip else None,
                        "reason": flip.reason if flip else "",
                    },
                )
            )
        return samples

    @classmethod
    def replayer(cls, rule: AlertRule, *, start: datetime, end: datetime) -> Callable[[datetime], list[Sample]]:
        history = StatusHistory(watched_targets(rule, kinds=("heartbeat",)), start=start)
        labels = target_labels(history.states)
        wanted = rule.params.get("problems", list(PROBLEMS))

        def sample(past: PastState) -> Sample | None:
            if past.state.status in ("paused", "unknown"):
                return None
            problem = heartbeat_problem(past.state.status, past.cause)
            return Sample(
                labels=labels[past.state.target_id],
                value=1.0 if problem in wanted else 0.0,
                breached=problem in wanted,
                detail={"status": past.state.status, "problem": problem, "reason": past.reason},
            )

        return replay_samples(history, sample)

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return None

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return f"heartbeat {' or '.join(p.replace('_', ' ') for p in params.get('problems', PROBLEMS))}"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        name, problem, reason = labels.get("target"), detail.get("problem"), (detail.get("reason") or "").strip()
        if not name:
            return None
        if not problem:
            return f"{name} {detail.get('status') or 'up'}"
        said = problem.replace("_", " ")
        return f"{name} {said}: {reason}" if reason else f"{name} {said}"
