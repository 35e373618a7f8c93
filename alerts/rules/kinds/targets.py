"""What the uptime kinds share: which targets a rule watches, and how their alerts are labelled."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds.base import Params, Sample
from monitoring.projects.selectors import project_slugs
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.selectors import TargetState, flips_since, latest_flips, target_ids_tagged, target_statuses

if TYPE_CHECKING:
    from alerts.models import AlertRule
    from monitoring.models import Flip

SCOPE: dict[str, Any] = {"target_ids": None, "tag": ""}


def scope_params(p: Params) -> dict[str, Any]:
    return {"target_ids": p.ids("target_ids"), "tag": p.text("tag", default="", max_length=50)}


def watched_targets(rule: AlertRule, *, kinds: tuple[str, ...] | None = None) -> list[TargetState]:
    """The rule's project's targets (every project's when it has none), narrowed by ids and tag."""
    ids = rule.params.get("target_ids")
    if rule.params.get("tag"):
        tagged = set(target_ids_tagged(tag=rule.params["tag"], project_id=rule.project_id))
        ids = [i for i in ids if i in tagged] if ids is not None else sorted(tagged)
    states = target_statuses(project_id=rule.project_id, target_ids=ids)
    return [s for s in states if kinds is None or s.kind in kinds]


def target_labels(states: list[TargetState]) -> dict[int, dict[str, str]]:
    slugs = project_slugs({s.project_id for s in states})
    return {
        s.target_id: {"target_id": str(s.target_id), "target": s.name, "project": slugs.get(s.project_id, "")}
        for s in states
    }


@dataclass(frozen=True)
class PastState:
    state: TargetState  # `status` and `since` as they were at the moment asked
    cause: FlipCause | None  # why it last flipped, when known
    reason: str


class StatusHistory:
    """The watched targets' statuses at past moments, replayed from their flips, for the preview.

    At a moment a target is in the new status of its last flip at or before it; before its
    first flip of the window, in that flip's old status (whose cause is unknown: it flipped
    before the window); with no flip in the window, in its current status. Flips are read
    once; targets without any in the window are answered from one list built once, so each
    moment costs only the targets that changed. A target made since is taken as existing.
    """

    def __init__(self, states: list[TargetState], *, start: datetime) -> None:
        self.states = states
        ids = [s.target_id for s in states]
        by_target: defaultdict[int, list[Flip]] = defaultdict(list)
        for flip in flips_since(since=start, target_ids=ids, limit=200_000):
            by_target[flip.target_id].append(flip)
        self.flips = dict(by_target)
        self.times = {target_id: [f.at for f in flips] for target_id, flips in self.flips.items()}
        quiet = [s for s in states if s.target_id not in self.flips]
        latest = latest_flips(target_ids=[s.target_id for s in quiet if s.status in ("down", "degraded")])
        self.steady = [
            PastState(s, latest[s.target_id].cause, latest[s.target_id].reason)
            if s.target_id in latest
            else PastState(s, None, "")
            for s in quiet
        ]

    def at(self, moment: datetime) -> list[PastState]:
        return self.steady + self.changing_at(moment)

    def changing_at(self, moment: datetime) -> list[PastState]:
        """The targets that flipped in the window, as they were at `moment`."""
        answer = []
        for s in self.states:
            flips = self.flips.get(s.target_id)
            if not flips:
                continue
            index = bisect_right(self.times[s.target_id], moment)
            if index:
                flip = flips[index - 1]
                then = replace(s, status=flip.new_status, since=flip.at)
                answer.append(PastState(then, FlipCause(flip.cause), flip.reason))
            else:
                answer.append(PastState(replace(s, status=flips[0].old_status, since=None), None, ""))
        return answer


def replay_samples(
    history: StatusHistory, sample_of: Callable[[PastState], Sample | None]
) -> Callable[[datetime], list[Sample]]:
    """A replayer answering each moment with the samples `sample_of` makes (None: no sample).

    Targets that did not flip in the window answer the same at every step. Those breached
    are all kept; of those that are not, one is kept: it keeps the answer from being "no
    data", and the others, never breached, could move no instance. So a step costs the
    targets that flipped, not every watched target (10,000 targets, a few flipping)."""
    steady = [sample for past in history.steady if (sample := sample_of(past)) is not None]
    kept = [s for s in steady if s.breached] + [s for s in steady if not s.breached][:1]

    def at(moment: datetime) -> list[Sample]:
        return kept + [sample for past in history.changing_at(moment) if (sample := sample_of(past)) is not None]

    return at
