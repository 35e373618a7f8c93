"""Debounce and quorum: from raw probe outcomes to a target's status, one flip at a time.

Each region keeps a short history of outcomes and its own verdict; the target's status
follows from the regions' verdicts and the quorum. Pure functions, so the rules are tested
without a database or a clock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.models import Status, Target
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP

_LETTER = {UP: "u", DEGRADED: "g", DOWN: "d"}

# A region whose newest result is older than this many intervals has no worker probing for
# it (stopped, or its queue unserved): its last verdict is history, not a vote.
SILENT_AFTER_INTERVALS = 2
# The status read for a target whose quorum can't be reached because regions are silent.
# Computed when read, never stored: silence is the absence of results, so no result arrives
# to store it, and the stored status stays what the regions last said.
SILENT = "silent"


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


def silent_regions(
    region_states: dict[str, Any], *, regions: list[str], interval_seconds: int, now: datetime, since: datetime
) -> list[str]:
    """The regions whose newest result is older than two intervals at `now`.

    `since` stands in for a region that has no result time yet: when the target was created
    or resumed (its states were cleared), so a new target is not silent before its first
    probes are due.
    """
    limit = now - timedelta(seconds=SILENT_AFTER_INTERVALS * interval_seconds)
    silent = []
    for region in regions:
        at = (region_states.get(region) or {}).get("at")
        seen = datetime.fromisoformat(at) if at else since
        if seen < limit:
            silent.append(region)
    return silent


def silent_since(target: Target) -> datetime:
    """When a region without any result time started being expected to report."""
    if target.status == Status.UNKNOWN and target.status_changed_at:  # resumed: its states were cleared
        return max(target.created_at, target.status_changed_at)
    return target.created_at


def target_silent_regions(target: Target, *, now: datetime) -> list[str]:
    """A probed target's silent regions at `now` (a heartbeat has no regions)."""
    if target.kind == Target.Kind.HEARTBEAT or target.paused:
        return []
    return silent_regions(
        target.region_states or {},
        regions=target.regions,
        interval_seconds=target.interval_seconds,
        now=now,
        since=silent_since(target),
    )


def quorum_reachable(*, regions: list[str], silent: list[str], quorum: int) -> bool:
    """Whether enough regions still report for `quorum` of them to call the target down."""
    return len([r for r in regions if r not in silent]) >= quorum


def target_verdict(
    region_states: dict[str, Any], *, regions: list[str], quorum: int, silent: list[str] | tuple[str, ...] = ()
) -> str:
    """Down only when `quorum` regions say down; a minority seeing it down is degraded.

    A silent region's verdict counts as unknown, never as its last status: a stopped worker's
    last "up" must not outvote a live region that sees the target failing.
    """
    verdicts = [
        Status.UNKNOWN if r in silent else region_states.get(r, {}).get("verdict", Status.UNKNOWN) for r in regions
    ]
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
    """A sentence a person on call can act on, cause first: "down: connection refused to
    127.0.0.1:8199 (2 of 2 probes failed)". Each region is named once, and only when there
    are several; the count is of the probes the debounce rule looked at."""
    down_regions = [r for r in regions if region_states.get(r, {}).get("verdict") == Status.DOWN]
    if new_status == Status.UP:
        return f"up after {rules.up_after} consecutive success{'es' if rules.up_after > 1 else ''}"
    if new_status == Status.DOWN or down_regions:
        shown = down_regions or regions
        if len(regions) == 1:
            return _sentence("down", _region_detail(regions[0], region_states, errors, rules))
        causes = "; ".join(f"{r}: {_region_detail(r, region_states, errors, rules)}" for r in shown)
        where = f"{len(down_regions)} of {len(regions)} regions, quorum {quorum}"
        if new_status == Status.DOWN:
            return _sentence(f"down in {where}", causes)
        return _sentence(f"down in {', '.join(down_regions)} only ({where})", causes)
    errs = [(r, errors[r]) for r in regions if errors.get(r)]
    if len(regions) == 1 or len({e for _, e in errs}) == 1:
        return _sentence("degraded", errs[0][1] if errs else "")
    return _sentence("degraded", "; ".join(f"{r}: {e}" for r, e in errs))


def _region_detail(region: str, region_states: dict[str, Any], errors: dict[str, str], rules: Rules) -> str:
    """ "connection refused to host:port (2 of 2 probes failed)": the region's last error and how
    many of the probes the rule counts failed."""
    recent = region_states.get(region, {}).get("recent", "")
    looked = recent[-(rules.window or rules.down_after) :]
    counted = f"{looked.count('d')} of {len(looked)} probes failed" if looked else ""
    if rules.window and looked:
        counted = f"{looked.count('d')} of the last {len(looked)} probes failed"
    error = errors.get(region, "")
    if error and counted:
        return f"{error} ({counted})"
    return error or counted


def _sentence(head: str, detail: str) -> str:
    return f"{head}: {detail}"[:500] if detail else head[:500]
