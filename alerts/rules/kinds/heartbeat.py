"""A heartbeat late, failed or over its runtime, told apart by why its target last flipped.

The heartbeat detector and ping service (monitoring.heartbeats.services.pings) write the reason:
"late: …" (degraded) and "missing: …" (down past grace) are late; a reason naming
max_runtime is over runtime; any other down is a failed run (failure ping, exit code,
under min_runtime).
"""

from datetime import datetime

from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.targets import SCOPE, scope_params, target_labels, watched_targets
from monitoring.uptime.selectors import latest_flip_reasons

PROBLEMS = ("late", "failed", "over_runtime")


def heartbeat_problem(status: str, reason: str) -> str | None:
    if status == "degraded":
        return "late"
    if status != "down":
        return None
    if reason.startswith(("late", "missing")):
        return "late"
    return "over_runtime" if "max_runtime" in reason else "failed"


class HeartbeatProblem(RuleKind):
    kind = "heartbeat"
    label = "Uptime: a heartbeat late, failed or over its runtime"
    example = {"problems": list(PROBLEMS), **SCOPE}
    replayable = False

    @classmethod
    def validate_params(cls, params) -> dict:
        p = Params(params)
        p.unknown(cls.example)
        return {"problems": p.choices("problems", PROBLEMS, default=list(PROBLEMS)), **scope_params(p)}

    @classmethod
    def evaluate(cls, rule, now: datetime) -> list[Sample]:
        statuses = [s for s in watched_targets(rule, kinds=("heartbeat",)) if s.status not in ("paused", "unknown")]
        labels = target_labels(statuses)
        reasons = latest_flip_reasons(target_ids=[s.target_id for s in statuses if s.status in ("down", "degraded")])
        wanted = rule.params.get("problems", list(PROBLEMS))
        samples = []
        for s in statuses:
            problem = heartbeat_problem(s.status, reasons.get(s.target_id, ""))
            breached = problem in wanted
            samples.append(
                Sample(
                    labels=labels[s.target_id],
                    value=1.0 if breached else 0.0,
                    breached=breached,
                    detail={"status": s.status, "problem": problem, "reason": reasons.get(s.target_id, "")},
                )
            )
        return samples

    @classmethod
    def threshold(cls, params: dict) -> float | None:
        return None

    @classmethod
    def describe(cls, params: dict) -> str:
        return f"heartbeat {' or '.join(p.replace('_', ' ') for p in params.get('problems', PROBLEMS))}"
