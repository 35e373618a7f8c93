"""The rule editor's preview: replay a rule over the last 7 days and count how often it fired.

It runs the evaluator's own logic (alerts.rules.states.observe and advance) on in-memory
instances, reading history the way the kind reads the present (or, for the uptime kinds,
replaying their targets' flips: RuleKind.replayer), so the count is what the evaluator would
have done. Nothing is written.

The replay steps by the rule's interval, but never finer than the kind's preview_min_step
(ten minutes unless the kind says otherwise): at the usual one-minute interval, seven days
are 10,080 evaluations of two statements each, too slow for a page; ten minutes make
1,008. The cost is that a breach shorter than a step can fall between two evaluations, and
a pending period shorter than a step counts as one step; the page says which step it used.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from alerts.models import AlertRule
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.states import Replayed, State, advance, observe

PREVIEW_DAYS = 7
CHART_WIDTH, CHART_HEIGHT = 800, 160


@dataclass
class Preview:
    supported: bool
    reason: str = ""
    fired: int = 0
    step: timedelta = timedelta(minutes=10)
    start: datetime | None = None
    end: datetime | None = None
    threshold: float | None = None
    points: list[tuple[datetime, float | None]] = field(default_factory=list)
    firing: list[bool] = field(default_factory=list)  # per point: was any instance firing
    errors: int = 0

    @property
    def evaluations(self) -> int:
        return len(self.points)


def rule_preview(*, rule: AlertRule, now: datetime, days: int = PREVIEW_DAYS) -> Preview:
    kind = RULE_KINDS.get(rule.kind)
    if kind is None:
        return Preview(supported=False, reason=f"{rule.kind!r} is not a rule kind")
    if not kind.replayable:
        return Preview(
            supported=False, reason=f"{kind.label} reads the present state only; it has no history to replay"
        )
    step = max(timedelta(seconds=rule.interval_seconds), kind.preview_min_step)
    end = now.replace(second=0, microsecond=0)
    moment = end - timedelta(days=days)
    preview = Preview(supported=True, step=step, start=moment, end=end, threshold=kind.threshold(rule.params))
    instances: dict[str, Replayed] = {}
    try:
        evaluate = kind.replayer(rule, start=moment, end=end)
    except Exception as exc:  # noqa: BLE001  its history could not be read: say so on the page
        return Preview(supported=False, reason=f"its history could not be read ({type(exc).__name__}: {exc})")
    while moment <= end:
        samples, error = None, ""
        try:
            samples = evaluate(moment)
        except Exception as exc:  # noqa: BLE001  counted and shown, as the evaluator would record it
            error = f"{type(exc).__name__}: {exc}"
            preview.errors += 1
        for observation in observe(rule=rule, kind=kind, samples=samples, error=error, known=instances):
            instance = instances.setdefault(observation.fingerprint, Replayed(labels=observation.labels))
            moved = advance(
                instance,
                condition=observation.condition,
                now=moment,
                for_seconds=rule.for_seconds,
                keep_firing_for_seconds=rule.keep_firing_for_seconds,
            )
            preview.fired += bool(moved and moved[1] == State.FIRING)
        values = [s.value for s in samples or [] if s.value is not None]
        preview.points.append((moment, max(values) if values else None))
        preview.firing.append(any(i.state == State.FIRING for i in instances.values()))
        moment += step
    return preview


class PreviewChart(TypedDict):
    """What the admin's template draws the chart from (coordinates in the SVG's own units)."""

    width: int
    height: int
    points: str  # the value line's "x,y x,y …"
    top: float
    bottom: float
    threshold_y: float | None
    firing_x: list[float]
    firing_width: float


def preview_chart(preview: Preview) -> PreviewChart:
    """An inline SVG of the value (the highest series at each step) against the threshold,
    with the steps where the rule was firing shaded."""
    values = [v for _, v in preview.points if v is not None]
    if preview.threshold is not None:
        values.append(preview.threshold)
    bottom, top = min(values + [0.0]), max(values + [0.0])
    span = (top - bottom) or 1.0
    last = max(len(preview.points) - 1, 1)

    def x(index: int) -> float:
        return round(index * CHART_WIDTH / last, 1)

    def y(value: float) -> float:
        return round(CHART_HEIGHT - (value - bottom) / span * CHART_HEIGHT, 1)

    line = " ".join(f"{x(i)},{y(v)}" for i, (_, v) in enumerate(preview.points) if v is not None)
    width = round(CHART_WIDTH / last, 1)
    shaded = [x(i) for i, firing in enumerate(preview.firing) if firing]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "points": line,
        "top": top,
        "bottom": bottom,
        "threshold_y": y(preview.threshold) if preview.threshold is not None else None,
        "firing_x": shaded,
        "firing_width": width,
    }
