"""Debounce and quorum: from raw probe outcomes to a target's status, one flip at a time.

Each region keeps a short history of outcomes and its own verdict; the target's status
follows from the regions' verdicts and the quorum. Pure functions, so the rules are tested
without a database or a clock.
"""

from dataclasses import dataclass
from typing import Any

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.models import Status, Target
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP

_LETTER = {UP: "u", DEGRADED: "g", DOWN: "d"}


@dataclass(frozen=True)
class Rules:
    down_after: int = 2  # N
    window: int | None = None  # M; None means N in a row
    up_after: int = 1  # K

    @classmethod
    def of(cls, target: Target) -> "Rules":
        return cls(target.down_after_failures, target.failure_window, target.up_after_successes)

    @property
    def history_length(self) -> int:
        return max(self.window or self.down_after, self.up_after)


def region_observe(state: dict[str, Any] | None, outcome: int, *, rules: Rules) -> dict[str, Any]:
    """The region's new state {'recent': 'uugd', 'verdict': …} after one more outcome."""
    state = state or {}
    recent = (state.get("recent", "") + _LETTER[outcome])[-rules.history_length :]
    verdict = state.get("verdict", Status.UNKNOWN)
    last = recent[-1]
    if verdict == Status.DOWN:
        tail = recent[-rules.up_after :]
        if len(tail) == rules.up_after and "d" not in tail:
            verdict = Status.DEGRADED if last == "g" else Status.UP
    elif last == "d":
        if rules.window:
            failing = recent[-rules.window :].count("d") >= rules.down_after
        else:
            failing = recent[-rules.down_after :] == "d" * rules.down_after
        if failing:
            verdict = Status.DOWN
    else:
        verdict = Status.DEGRADED if last == "g" else Status.UP
    return {"recent": recent, "verdict": verdict}


def target_verdict(region_states: dict[str, Any], *, regions: list[str], quorum: int) -> str:
    """Down only when `quorum` regions say down; a minority seeing it down is degraded."""
    verdicts = [region_states.get(r, {}).get("verdict", Status.UNKNOWN) for r in regions]
    down = verdicts.count(Status.DOWN)
    if down >= quorum:
        return Status.DOWN
    if down or Status.DEGRADED in verdicts:
        return Status.DEGRADED
    if Status.UP in verdicts:
        return Status.UP
    return Status.UNKNOWN


def flip_cause(*, new_status: str, region_states: dict[str, Any], regions: list[str], first: str) -> FlipCause:
    """Why the target moved to `new_status`: the last failure cause of a region whose verdict
    explains it, region `first` (whose result decided) before the others. A down region explains
    a degraded target too, when there is one: only a minority being down is what degraded means
    then; otherwise a degraded region does (slow, a certificate expiring)."""
    if new_status == Status.UP:
        return FlipCause.RECOVERED
    verdicts = {r: region_states.get(r, {}).get("verdict") for r in regions}
    wanted = Status.DOWN if new_status == Status.DOWN or Status.DOWN in verdicts.values() else Status.DEGRADED
    for region in sorted(regions, key=lambda r: r != first):
        cause = region_states.get(region, {}).get("cause")
        if verdicts[region] == wanted and cause:
            return FlipCause(cause)
    # States stored before regions kept their cause.
    return FlipCause.UNKNOWN


def flip_reason(
    *,
    new_status: str,
    region_states: dict[str, Any],
    regions: list[str],
    quorum: int,
    errors: dict[str, str],
    rules: Rules,
) -> str:
    """A sentence a person on call can act on: what was seen, where, and by which rule."""
    down_regions = [r for r in regions if region_states.get(r, {}).get("verdict") == Status.DOWN]
    detail = "; ".join(f"{r}: {errors[r]}" for r in regions if errors.get(r))
    if new_status == Status.DOWN:
        if rules.window:
            rule = f"{rules.down_after} failures in the last {rules.window} probes"
        else:
            rule = f"{rules.down_after} consecutive failure{'s' if rules.down_after > 1 else ''}"
        where = (
            f"in {len(down_regions)} of {len(regions)} regions (quorum {quorum})"
            if len(regions) > 1
            else f"in {regions[0]}"
        )
        text = f"down after {rule} {where}"
    elif new_status == Status.DEGRADED and down_regions:
        text = (
            f"down in {', '.join(down_regions)} only, {len(down_regions)} of {len(regions)} regions (quorum {quorum})"
        )
    elif new_status == Status.DEGRADED:
        text = "degraded"
    else:
        text = f"{new_status} after {rules.up_after} consecutive success{'es' if rules.up_after > 1 else ''}"
    return f"{text}: {detail}"[:500] if detail else text[:500]
