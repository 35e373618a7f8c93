"""An availability SLO on a transaction name: the share of its transactions that did not
fail, as a multi-window burn rate (the presets and maths of slo_burn_rate.py).

Every transaction and segment span is stored as a `transaction.failed` point, 0 or 1, tagged
with its name (monitoring/errors/transactions.py): per minute the point count is the total
and the sum the failures. So no separate good and total counters are needed.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.slo_burn_rate import MINUTE, PRESETS, window_burn_rates, window_label
from monitoring.errors.transactions import FAILED
from monitoring.telemetry.selectors.metrics import QueryError, query

if TYPE_CHECKING:
    from alerts.models import AlertRule


class TransactionAvailability(RuleKind):
    kind = "transaction_availability"
    label = "Performance: availability SLO of a transaction"
    # As slo_burn_rate: up to six hours of minute rollups an evaluation.
    preview_min_step = timedelta(minutes=30)
    example = {"transaction": "GET /orders", "objective": 99.9, "preset": "page"}

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {
            "transaction": p.text("transaction"),
            "objective": p.number("objective", minimum=50, maximum=99.9999),
            "preset": p.text("preset", default="page", choices=PRESETS),
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        presets = [
            (key, f"{key}: {p.factor:g}× over {window_label(p.long)} and {window_label(p.short)}")
            for key, p in PRESETS.items()
        ]
        return {
            "transaction": f.text_field(
                max_length=200, placeholder="GET /orders", help_text="The transaction's name, as the SDK sends it."
            ),
            "objective": f.number_field(
                unit="%", initial=99.9, help_text="Share of its transactions that must not fail, over 30 days."
            ),
            "preset": f.choice_field(presets, initial="page"),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        params = rule.params
        project = rule.project
        if project is None:
            raise ValueError("a transaction SLO needs a project")
        preset = PRESETS[params["preset"]]
        tags = {"transaction": params["transaction"]}
        try:
            total, failed = (
                query(project, FAILED, tags, agg, preset.long, MINUTE, end=now) for agg in ("count", "sum")
            )
        except QueryError as exc:
            raise ValueError(str(exc)) from exc
        if not total.series:
            return []  # the name has never been seen: no series to judge
        minutes = [((t.value or 0.0) - (b.value or 0.0), t.value or 0.0) for t, b in zip(total.buckets, failed.buckets)]
        long_rate, short_rate = window_burn_rates(minutes, preset=preset, objective_pct=params["objective"])
        labels = {"transaction": params["transaction"]}
        if long_rate is None:
            return [Sample(labels=labels, value=None, breached=False)]
        short_rate = short_rate or 0.0
        # Both windows must burn faster than the factor: the lower one is what is compared.
        value = min(long_rate, short_rate)
        return [
            Sample(
                labels=labels,
                value=round(value, 4),
                breached=value > preset.factor,
                detail={
                    "burn_rate_long": round(long_rate, 4),
                    "burn_rate_short": round(short_rate, 4),
                    "transactions": int(sum(t for _, t in minutes)),
                    "failed": int(sum(t - g for g, t in minutes)),
                },
            )
        ]

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return PRESETS[params["preset"]].factor

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "× budget"

    @classmethod
    def needs_project(cls, params: dict[str, Any]) -> bool:
        return True

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "GET /orders availability SLO 99.9 %: 30 of 1,200 failed over 1 h, burning 25× (and 40× over 5 min)"."""
        preset = PRESETS[params["preset"]]
        slo = f"{params['transaction']} availability SLO {params['objective']:g} %"
        if value is None or "burn_rate_long" not in detail:
            return f"{slo}: no transactions over {window_label(preset.long)}"
        return (
            f"{slo}: {detail['failed']:,} of {detail['transactions']:,} failed over {window_label(preset.long)}, "
            "burning "
            f"{detail['burn_rate_long']:.3g}× (and {detail['burn_rate_short']:.3g}× over {window_label(preset.short)}; "
            f"alerting above {preset.factor:g}×)"
        )

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        preset = PRESETS[params["preset"]]
        return (
            f"{params['transaction']} availability SLO {params['objective']:g} % burning over {preset.factor:g}× "
            f"for {window_label(preset.long)} and {window_label(preset.short)}"
        )
