"""SLO burn rate, with the multi-window presets of the Google SRE workbook.

An objective of 99.9 % over 30 days leaves an error budget of 0.1 % of events. The burn
rate over a window is the window's error rate divided by that budget: at 1× the budget
lasts exactly the 30 days. A preset alerts when BOTH its long and its short window burn
faster than its factor: the long window says enough budget is gone to matter, the short
one that it is still going (so the alert clears soon after the burning stops).

    page:   14.4× over 1 h and 5 m  → 14.4 × 1 h / 720 h = 2 % of the budget spent in an hour
    ticket:  6×  over 6 h and 30 m  →  6 × 6 h / 720 h  = 5 % of the budget spent in six hours
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.targets import SCOPE, scope_params, watched_targets
from monitoring.telemetry.selectors.metrics import QueryError, query, query_share_at_most
from monitoring.uptime.selectors import uptime_minutes, uptime_minutes_rolled_until

if TYPE_CHECKING:
    from alerts.models import AlertRule

PERIOD = timedelta(days=30)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Preset:
    factor: float
    long: timedelta
    short: timedelta

    @property
    def budget_spent(self) -> float:
        """The share of the whole period's budget gone when the long window alone fires."""
        return self.factor * (self.long / PERIOD)


PRESETS = {
    "page": Preset(factor=14.4, long=timedelta(hours=1), short=timedelta(minutes=5)),
    "ticket": Preset(factor=6.0, long=timedelta(hours=6), short=timedelta(minutes=30)),
}
SLIS = ("availability_uptime", "availability_metric", "latency")


def burn_rate(*, good: float, total: float, objective_pct: float) -> float | None:
    """How many times faster than the budget allows errors are being spent; None without events."""
    if total <= 0:
        return None
    budget = 1 - objective_pct / 100
    return (1 - good / total) / budget


def window_burn_rates(
    minutes: list[tuple[float, float]], *, preset: Preset, objective_pct: float
) -> tuple[float | None, float | None]:
    """(long, short) burn rates from per-minute (good, total) pairs, oldest first, covering
    the long window; the short window is its last minutes."""
    short_minutes = int(preset.short / MINUTE)
    sums: list[float | None] = []
    for span in (minutes, minutes[-short_minutes:]):
        sums.append(burn_rate(good=sum(g for g, _ in span), total=sum(t for _, t in span), objective_pct=objective_pct))
    return sums[0], sums[1]


class SloBurnRate(RuleKind):
    kind = "slo_burn_rate"
    label = "SLO burn rate (30 days, multi-window)"
    # Each evaluation reads up to six hours of minute rollups: a half-hour step keeps the
    # 7-day replay to 336 evaluations, and a page's 5-minute short window still resets it.
    preview_min_step = timedelta(minutes=30)
    example = {
        "sli": "latency",
        "objective": 99.9,
        "preset": "page",
        "metric": "http.latency",
        "tags": {},
        "threshold_ms": 500,
        "good_metric": "",
        "total_metric": "",
        **SCOPE,
    }

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        sli = p.text("sli", choices=SLIS)
        cleaned: dict[str, Any] = {
            "sli": sli,
            "objective": p.number("objective", minimum=50, maximum=99.9999),
            "preset": p.text("preset", default="page", choices=PRESETS),
            "tags": p.tags("tags"),
        }
        if sli == "latency":
            cleaned.update(metric=p.text("metric"), threshold_ms=p.number("threshold_ms", minimum=0))
        elif sli == "availability_metric":
            cleaned.update(good_metric=p.text("good_metric"), total_metric=p.text("total_metric"))
        else:
            cleaned.update(scope_params(p))
        return cleaned

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        # Every SLI's fields are shown; validate_params keeps only the chosen SLI's.
        sli_words = {
            "latency": "latency: share of requests under a time",
            "availability_metric": "availability: good events over total events (two counters)",
            "availability_uptime": "availability: the targets' uptime",
        }
        presets = [
            (key, f"{key}: {p.factor:g}× over {window_label(p.long)} and {window_label(p.short)}")
            for key, p in PRESETS.items()
        ]
        scope = f.target_scope_fields(project_id=project_id)
        scope["target_ids"].help_text = "Uptime SLI: the targets whose uptime counts; none chosen: all of them."
        return {
            "sli": f.choice_field([(s, sli_words[s]) for s in SLIS], label="SLI", initial="latency"),
            "objective": f.number_field(unit="%", initial=99.9, help_text="Over 30 days."),
            "preset": f.choice_field(presets, initial="page"),
            "metric": f.metric_field(
                project_id=project_id, required=False, label="Latency metric", help_text="Latency SLI."
            ),
            "threshold_ms": f.number_field(
                unit="ms", required=False, label="Fast under", help_text="Latency SLI: a request under this is good."
            ),
            "good_metric": f.metric_field(
                project_id=project_id, required=False, help_text="Metric SLI: the counter of good events."
            ),
            "total_metric": f.metric_field(
                project_id=project_id, required=False, help_text="Metric SLI: the counter of all events."
            ),
            "tags": f.TagsField(help_text="Latency and metric SLIs: only the series with these tags."),
            **scope,
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        params = rule.params
        preset = PRESETS[params["preset"]]
        minutes = cls._minutes(rule, now, preset.long)
        if minutes is None:
            return []
        long_rate, short_rate = window_burn_rates(minutes, preset=preset, objective_pct=params["objective"])
        if long_rate is None:
            return [Sample(labels={}, value=None, breached=False)]
        short_rate = short_rate or 0.0
        # Both windows must exceed the factor, so the lower of the two is what is compared.
        value = min(long_rate, short_rate)
        return [
            Sample(
                labels={},
                value=round(value, 4),
                breached=value > preset.factor,
                detail={
                    "burn_rate_long": round(long_rate, 4),
                    "burn_rate_short": round(short_rate, 4),
                    "long_window_minutes": int(preset.long / MINUTE),
                    "short_window_minutes": int(preset.short / MINUTE),
                },
            )
        ]

    @classmethod
    def _minutes(cls, rule: "AlertRule", now: datetime, window: timedelta) -> list[tuple[float, float]] | None:
        params = rule.params
        if params["sli"] == "availability_uptime":
            targets = watched_targets(rule)
            if not targets:
                return None
            rolled = uptime_minutes_rolled_until()
            end = min(now, rolled) if rolled else now
            counts = uptime_minutes(target_ids=[t.target_id for t in targets], since=end - window, until=end)
            return [(c.up, c.probes) for c in counts]
        if rule.project_id is None:
            raise ValueError("a metric SLO needs a project")
        project = rule.project
        assert project is not None  # its project_id is set
        try:
            if params["sli"] == "latency":
                buckets = query_share_at_most(
                    project, params["metric"], params["threshold_ms"], params["tags"], window, MINUTE, end=now
                )
                return [(b.at_most, b.count) for b in buckets]
            good, total = (
                query(project, params[name], params["tags"], "sum", window, MINUTE, end=now)
                for name in ("good_metric", "total_metric")
            )
        except QueryError as exc:
            raise ValueError(str(exc)) from exc
        if not total.series:
            return None
        return [(g.value or 0.0, t.value or 0.0) for g, t in zip(good.buckets, total.buckets)]

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return PRESETS[params["preset"]].factor

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "× budget"

    @classmethod
    def needs_project(cls, params: dict[str, Any]) -> bool:
        return params.get("sli") != "availability_uptime"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "availability uptime SLO 99.9 % burning 16.2× over 1 h and 20× over 5 min (alerting above 14.4×)"."""
        preset = PRESETS[params["preset"]]
        slo = f"{params['sli'].replace('_', ' ')} SLO {params['objective']:g} %"
        if value is None or "burn_rate_long" not in detail:
            return f"{slo}: no data over {window_label(preset.long)}"
        return (
            f"{slo} burning {detail['burn_rate_long']:.3g}× over {window_label(preset.long)} and "
            f"{detail['burn_rate_short']:.3g}× over {window_label(preset.short)} (alerting above {preset.factor:g}×)"
        )

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        preset = PRESETS[params["preset"]]
        return (
            f"{params['sli'].replace('_', ' ')} SLO {params['objective']:g} % burning over {preset.factor:g}× "
            f"for {int(preset.long / MINUTE)} min and {int(preset.short / MINUTE)} min"
        )


def window_label(span: timedelta) -> str:
    """A burn-rate window as people name it ("1 h", "5 min"), for rule kinds' choices and reasons."""
    minutes = int(span / MINUTE)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
