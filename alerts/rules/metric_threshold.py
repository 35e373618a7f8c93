"""Metric threshold: an aggregation of a metric over a window against a threshold."""

from datetime import datetime, timedelta

from alerts.rules.base import OPERATORS, SYMBOLS, Params, RuleKind, Sample, params_error
from monitoring.selectors.telemetry import AGGREGATIONS, QueryError, query, query_groups

# A window longer than this would read minute rollups past their retention.
MAX_WINDOW_MINUTES = 24 * 60


class MetricThreshold(RuleKind):
    kind = "metric_threshold"
    label = "Metric threshold"
    example = {"metric": "http.latency", "tags": {"route": "/checkout"}, "agg": "p95", "window_minutes": 5,
               "operator": "gt", "threshold": 2000, "recovery_threshold": 1500, "group_by_tag": "",
               "per_series": False}

    @classmethod
    def validate_params(cls, params) -> dict:
        p = Params(params)
        p.unknown(cls.example)
        cleaned = {
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
            if (operator in ("gt", "ge") and recovery > threshold) or (operator in ("lt", "le") and recovery < threshold):
                side = "at or below" if operator in ("gt", "ge") else "at or above"
                raise params_error("recovery_threshold", f"must be {side} the threshold {threshold:g}")
        if cleaned["group_by_tag"] and cleaned["per_series"]:
            raise params_error("group_by_tag", "choose grouping by a tag or per series, not both")
        return cleaned

    @classmethod
    def evaluate(cls, rule, now: datetime) -> list[Sample]:
        params = rule.params
        if rule.project_id is None:
            raise ValueError("a metric rule needs a project")
        window = timedelta(minutes=params["window_minutes"])
        try:
            if params.get("group_by_tag") or params.get("per_series"):
                groups = query_groups(rule.project, params["metric"], params["tags"], params["agg"], window,
                                      group_by=params.get("group_by_tag") or None, end=now)
                found = [(g.labels, g.value) for g in groups]
            else:
                result = query(rule.project, params["metric"], params["tags"], params["agg"], window, end=now)
                # No series at all is no data, even for count and sum (which would say 0).
                found = [({}, result.buckets[0].value)] if result.series else []
        except QueryError as exc:
            raise ValueError(str(exc)) from exc
        return [cls.sample(params, labels, value) for labels, value in found]

    @classmethod
    def sample(cls, params: dict, labels: dict, value: float | None) -> Sample:
        if value is None:
            return Sample(labels=labels, value=None, breached=False)
        compare = OPERATORS[params["operator"]]
        breached = compare(value, params["threshold"])
        recovery = params.get("recovery_threshold")
        recovered = not compare(value, recovery) if recovery is not None else not breached
        return Sample(labels=labels, value=value, breached=breached, recovered=recovered)

    @classmethod
    def needs_project(cls, params: dict) -> bool:
        return True

    @classmethod
    def describe(cls, params: dict) -> str:
        tags = ",".join(f"{k}={v}" for k, v in sorted(params.get("tags", {}).items()))
        return (f"{params['agg']}({params['metric']}{{{tags}}}) over {params['window_minutes']} min "
                f"{SYMBOLS[params['operator']]} {params['threshold']:g}")
