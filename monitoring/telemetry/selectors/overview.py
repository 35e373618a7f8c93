"""The dashboard's per-project telemetry: request p95 and failure rate from sentry-sdk
transactions, and Web Vitals p75 against Google's budgets, over the last 24 h.

One query whatever the number of projects or series: the rollups of the few metric names the
dashboard shows, joined to their series, closed hours plus the open hour's minutes.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from monitoring.errors.transactions import DURATION, FAILED
from monitoring.models import MetricRollup
from monitoring.telemetry.histogram import Histogram
from monitoring.telemetry.selectors.web_vitals import THRESHOLDS, Rating, vital_rating

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class VitalFigure:
    name: str
    p75: float
    budget: float
    rating: Rating


@dataclass
class ProjectTelemetry:
    project_id: int
    requests: int = 0
    p95_ms: float | None = None
    failure_rate: float | None = None  # 0–1, of transactions
    vitals: list[VitalFigure] = field(default_factory=list)


def projects_telemetry(*, now: datetime) -> dict[int, ProjectTelemetry]:
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = (
        MetricRollup.objects.filter(
            Q(resolution=MetricRollup.Resolution.HOUR, start__gte=hour - WINDOW + timedelta(hours=1), start__lt=hour)
            | Q(resolution=MetricRollup.Resolution.MINUTE, start__gte=hour),
            Q(series__name__in=[DURATION, FAILED]) | Q(series__name__in=[f"vitals.{v}" for v in THRESHOLDS]),
        )
        .values("series__project_id", "series__name", "count", "sum", "min", "max", "histogram")
        .iterator(chunk_size=5_000)
    )
    histograms: defaultdict[tuple[int, str], Histogram] = defaultdict(Histogram)
    failed: defaultdict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])  # failures, transactions
    for row in rows:
        project_id, name = row["series__project_id"], row["series__name"]
        if name == FAILED:
            failed[project_id][0] += row["sum"]
            failed[project_id][1] += row["count"]
        else:
            histograms[project_id, name].merge(Histogram.from_row(row))
    out: dict[int, ProjectTelemetry] = {}
    for (project_id, name), histogram in histograms.items():
        entry = out.setdefault(project_id, ProjectTelemetry(project_id))
        if not histogram.count:
            continue
        if name == DURATION:
            entry.requests, entry.p95_ms = histogram.count, histogram.quantile(0.95)
        else:
            vital = name.removeprefix("vitals.")
            p75 = histogram.quantile(0.75) or 0.0
            entry.vitals.append(VitalFigure(vital, p75, THRESHOLDS[vital][0], vital_rating(histogram, vital)))
    for project_id, (failures, total) in failed.items():
        if total:
            out.setdefault(project_id, ProjectTelemetry(project_id)).failure_rate = failures / total
    order = list(THRESHOLDS)
    for entry in out.values():
        entry.vitals.sort(key=lambda v: order.index(v.name))
    return out
