"""Rules and synthetic metric history: rollup rows written as the rollup builder writes them."""

from datetime import datetime

import factory

from alerts.incidents.services import incidents
from alerts.models import AlertRule
from monitoring.models import MetricRollup, MetricSeries
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.services.ingest import tags_hash
from tests.factories import ProjectFactory


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "metric_threshold"
    params = factory.LazyFunction(
        lambda: {"metric": "cpu", "tags": {}, "agg": "avg", "window_minutes": 1, "operator": "gt", "threshold": 80}
    )
    severity = "high"


def metric_series(project, name: str, tags: dict | None = None, kind: str = "gauge") -> MetricSeries:
    tags = tags or {}
    series, _ = MetricSeries.objects.get_or_create(
        project=project, name=name, tags_hash=tags_hash(tags), defaults={"tags": tags, "kind": kind}
    )
    return series


def put_minute(series: MetricSeries, start: datetime, *values: float) -> None:
    """One minute rollup holding `values` (replacing any there)."""
    histogram = Histogram.of(values)
    MetricRollup.objects.update_or_create(
        series=series,
        resolution=MetricRollup.Resolution.MINUTE,
        start=start,
        defaults={
            "count": histogram.count,
            "sum": histogram.sum,
            "min": histogram.min,
            "max": histogram.max,
            "histogram": histogram.encode(),
        },
    )


def capture_signals(monkeypatch) -> list:
    """Collect the signals handed to alerts_receive (the one seam to incidents) instead."""
    captured = []

    def alerts_receive(*, signals, now):
        captured.extend(signals)
        return []

    monkeypatch.setattr(incidents, "alerts_receive", alerts_receive)
    return captured
