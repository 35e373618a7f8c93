"""A target down or degraded: one sample per target, from the status the probes and heartbeats keep."""

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
from monitoring.uptime.selectors import SILENT, TargetState, latest_flips

if TYPE_CHECKING:
    from alerts.models import AlertRule

PROBLEMS = ("down", "degraded")


def quorum_samples(states: list[TargetState], labels: dict[int, dict[str, str]]) -> list[Sample]:
    """A series of its own per probed target, breached while too few regions report to reach
    its quorum: silence hides an outage, so it alerts whatever statuses the rule watches."""
    return [
        Sample(
            labels={**labels[s.target_id], "check": "quorum"},
            value=1.0 if s.status == SILENT else 0.0,
            breached=s.status == SILENT,
            detail={
                "status": s.status,
                "since": s.since.isoformat() if s.since else None,
                "reason": f"no result from {', '.join(s.silent_regions)} for two intervals: the quorum can't be reached"
                if s.status == SILENT
                else "",
            },
        )
        for s in states
        if s.kind != "heartbeat"
    ]


class TargetDown(RuleKind):
    kind = "target_status"  # the stored value, kept from before the class had its own name
    label = "Uptime: a target down or degraded"
    example = {"statuses": ["down"], **SCOPE}
    # Its evaluate reads the status as it is now; the preview replays the flips (replayer).

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {"statuses": p.choices("statuses", PROBLEMS, default=["down"]), **scope_params(p)}

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "statuses": f.checkboxes_field(PROBLEMS, label="Alert when", initial=["down"]),
            **f.target_scope_fields(project_id=project_id),
        }

    @classmethod
    def evaluate(cls, rule: AlertRule, now: datetime) -> list[Sample]:
        states = [s for s in watched_targets(rule) if s.status != "paused"]
        labels = target_labels(states)
        wanted = rule.params.get("statuses", ["down"])
        # Why each problem target flipped (the probes' own words), for the alert's title.
        flips = latest_flips(target_ids=[s.target_id for s in states if s.status in PROBLEMS])
        return [
            Sample(
                labels=labels[s.target_id],
                value=1.0 if s.status in wanted else 0.0,
                breached=s.status in wanted,
                detail={
                    "status": s.status,
                    "since": s.since.isoformat() if s.since else None,
                    "reason": flips[s.target_id].reason if s.target_id in flips else "",
                },
            )
            for s in states
            if s.status != "unknown"  # never probed yet: no data, not a verdict
        ] + quorum_samples(states, labels)

    @classmethod
    def replayer(cls, rule: AlertRule, *, start: datetime, end: datetime) -> Callable[[datetime], list[Sample]]:
        history = StatusHistory(watched_targets(rule), start=start)
        labels = target_labels(history.states)
        wanted = rule.params.get("statuses", ["down"])

        def sample(past: PastState) -> Sample | None:
            if past.state.status in ("paused", "unknown"):
                return None
            return Sample(
                labels=labels[past.state.target_id],
                value=1.0 if past.state.status in wanted else 0.0,
                breached=past.state.status in wanted,
                detail={"status": past.state.status, "reason": past.reason},
            )

        return replay_samples(history, sample)

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return None

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return f"target {' or '.join(params.get('statuses', ['down']))}"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        return target_sentence(labels, detail)


def target_sentence(labels: dict[str, str], detail: dict[str, Any]) -> str | None:
    """ "storefront down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)": the
    target's name, then the reason its status last flipped, as the monitoring side wrote it."""
    name, status, reason = labels.get("target"), detail.get("status"), (detail.get("reason") or "").strip()
    if not name or not status:
        return None
    if not reason:
        return f"{name} {status}"
    # The flip's reason opens with the status it flipped to ("down: …", "down in 2 of 3 regions …").
    return f"{name} {reason}" if reason.startswith((f"{status}:", f"{status} ")) else f"{name} {status}: {reason}"
