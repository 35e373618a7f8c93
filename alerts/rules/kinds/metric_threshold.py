"""Metric threshold: an aggregation of a metric over a window against a threshold."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import (
    OPERATORS,
    SYMBOLS,
    TIME_WORDS,
    Params,
    RuleKind,
    Sample,
    params_error,
    quantity,
)
from monitoring.telemetry.selectors.metrics import AGGREGATIONS, MetricRequest, QueryError, query_batch

if TYPE_CHECKING:
    from alerts.models import AlertRule

# A window longer than this would read minute rollups past their retention.
MAX_WINDOW_MINUTES = 24 * 60


class MetricThreshold(RuleKind):
    kind = "metric_threshold"
    label = "Metric threshold"
    example = {
        "metric": "http.latency",
        "tags": {"route": "/checkout"},
        "agg": "p95",
        "window_minutes": 5,
        "operator": "gt",
        "threshold": 2000,
        "recovery_threshold": 1500,
        "group_by_tag": "",
        "per_series": False,
    }

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        cleaned: dict[str, Any] = {
            "metric": p.text("metric"),
            "tags": p.tags("tags"),
            "agg": p.text("agg", default="avg", choices=AGGREGATIONS),
            "window_minutes": p.integer("window_minutes", default=5, maximum=MAX_WINDOW_MINUTES),
            "operator": p.text("operator", default="gt", choices=OPERATORS),
            "threshold": p.number("threshold"),
            "recovery_threshold": p.number("recovery_threshold", optional=True),
            "group_by_tag": p.text("group_by_tag", default="", max_length=64),
            "per_series": p.boolean("per_series"),
        }
        recovery, threshold, operator = cleaned["recovery_threshold"], cleaned["threshold"], cleaned["operator"]
        if recovery is not None:
            if operator == "eq":
                raise params_error("recovery_threshold", "has no meaning with operator eq")
            # The recovery line sits on the healthy side of the threshold, or it would clear at once.
            above = operator in ("gt", "ge")
            if (above and recovery > threshold) or (not above and recovery < threshold):
                side = "at or below" if above else "at or above"
                raise params_error("recovery_threshold", f"must be {side} the threshold {threshold:g}")
        if cleaned["group_by_tag"] and cleaned["per_series"]:
            raise params_error("group_by_tag", "choose grouping by a tag or per series, not both")
        return cleaned

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        unit = "in the metric's unit: milliseconds for times (latency, duration, Web Vitals)"
        return {
            "metric": f.metric_field(project_id=project_id),
            "tags": f.TagsField(help_text="Only the series with these tags; empty: all of them."),
            "agg": f.choice_field(AGGREGATIONS, label="Aggregation", initial="avg"),
            "window_minutes": f.window_field(initial=5, help_text=f"At most {MAX_WINDOW_MINUTES} (a day)."),
            "operator": f.operator_field(initial="gt"),
            "threshold": f.number_field(help_text=f"Alert when the value crosses it; {unit}."),
            "recovery_threshold": f.number_field(
                required=False, help_text="Optional: clear only past this value (on the healthy side)."
            ),
            "group_by_tag": f.text_field(
                required=False, max_length=64, placeholder="route", help_text="One alert per value of this tag."
            ),
            "per_series": f.switch_field(help_text="One alert per series (each tag combination)."),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        answer = cls.evaluate_many([rule], now)[rule.pk]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @classmethod
    def evaluate_many(cls, rules: list["AlertRule"], now: datetime) -> dict[int, list[Sample] | Exception]:
        """All rules of a project in one batch of reads: the series once, the rollups once."""
        answers: dict[int, list[Sample] | Exception] = {}
        by_project: defaultdict[int, list[AlertRule]] = defaultdict(list)
        for rule in rules:
            if rule.project_id is None:
                answers[rule.pk] = ValueError("a metric rule needs a project")
            else:
                by_project[rule.project_id].append(rule)
        for group in by_project.values():
            try:
                project = group[0].project
                assert project is not None  # grouped by their project_id, which is set
                batch = query_batch(project, [_request(rule.params) for rule in group], end=now)
            except Exception as exc:  # noqa: BLE001  the read failed: every rule of the batch is in error
                answers.update((rule.pk, exc) for rule in group)
                continue
            for rule, found in zip(group, batch):
                if isinstance(found, QueryError):
                    answers[rule.pk] = ValueError(str(found))
                else:
                    answers[rule.pk] = [cls.sample(rule.params, g.labels, g.value) for g in found]
        return answers

    @classmethod
    def sample(cls, params: dict[str, Any], labels: dict[str, str], value: float | None) -> Sample:
        if value is None:
            return Sample(labels=labels, value=None, breached=False)
        compare = OPERATORS[params["operator"]]
        breached = compare(value, params["threshold"])
        recovery = params.get("recovery_threshold")
        recovered = not compare(value, recovery) if recovery is not None else not breached
        return Sample(labels=labels, value=value, breached=breached, recovered=recovered)

    @classmethod
    def needs_project(cls, params: dict[str, Any]) -> bool:
        return True

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        # The SDKs send times in milliseconds (see quantity); a count or a rate has no unit here.
        timed = any(word in params.get("metric", "").lower() for word in TIME_WORDS)
        return "ms" if timed and params.get("agg") not in ("count", "rate") else ""

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        tags = ",".join(f"{k}={v}" for k, v in sorted(params.get("tags", {}).items()))
        return (
            f"{params['agg']}({params['metric']}{{{tags}}}) over {params['window_minutes']} min "
            f"{SYMBOLS[params['operator']]} {params['threshold']:g}"
        )

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "http.latency route=/checkout p95 2.8 s > 2 s over 10 min"."""
        metric = params["metric"]
        where = " ".join(f"{k}={v}" for k, v in sorted({**params.get("tags", {}), **labels}.items()))
        series = f"{metric} {where}" if where else metric
        threshold = f"{SYMBOLS[params['operator']]} {quantity(metric, params['threshold'])}"
        if value is None:
            return f"{series} {params['agg']}: no data over {params['window_minutes']} min (alerting at {threshold})"
        return f"{series} {params['agg']} {quantity(metric, value)} {threshold} over {params['window_minutes']} min"


def _request(params: dict[str, Any]) -> MetricRequest:
    grouped = bool(params.get("group_by_tag") or params.get("per_series"))
    return MetricRequest(
        name=params["metric"],
        tags=params["tags"],
        agg=params["agg"],
        window=timedelta(minutes=params["window_minutes"]),
        group_by=params.get("group_by_tag") or None,
        grouped=grouped,
    )
