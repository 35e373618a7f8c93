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

from alerts.models import AlertRule
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.states import Replayed, State, advance, observe
from monitoring.common.charts import BAD, GOOD, Chart, Marker, Series, line_chart

PREVIEW_DAYS = 7


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


def preview_chart(preview: Preview, *, unit: str, days: int = PREVIEW_DAYS) -> Chart:
    """The value (the highest series at each step) against the threshold, with a marker where
    the rule started firing (red) and where it stopped (green)."""
    series = [Series("value (highest series)", preview.points)]
    if preview.threshold is not None and preview.start and preview.end:
        threshold = [(preview.start, preview.threshold), (preview.end, preview.threshold)]
        series.append(Series("threshold", threshold, color=BAD, dashed=True))
    markers, was_firing = [], False
    for (moment, _), firing in zip(preview.points, preview.firing, strict=True):
        if firing != was_firing:
            # Only the start is labelled: an outage of a step or two puts both marks side by side.
            markers.append(Marker(moment, "fired" if firing else "", BAD if firing else GOOD))
        was_firing = firing
    return line_chart(
        series,
        unit=unit,
        y_label="Value",
        empty=f"No data in the last {days} days: the rule's series had no value at any step.",
        start=preview.start,
        end=preview.end,
        markers=markers,
        y_min=None,
        title="The rule's value over the replay",
    )
