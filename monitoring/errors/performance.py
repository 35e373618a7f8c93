"""Reads behind the performance view: per transaction name, throughput, p50 and p95 duration
and failure rate, and one transaction's trend over the window.

Everything comes from the metrics store's rollups of the two series every transaction and
segment span becomes (monitoring/errors/transactions.py): `transaction.duration` (ms) and
`transaction.failed` (0 or 1, so its average is the failure rate), tagged `transaction`.
So the cost is a fixed handful of queries over rollup rows, however many transactions
arrived: the table is one `query_batch` (series once, rollups once), a trend four `query`s.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.errors.transactions import DURATION, FAILED
from monitoring.models import MetricSeries, Project
from monitoring.telemetry.selectors.metrics import GroupValue, MetricRequest, query, query_batch

# What the view offers, and the step each is drawn in: whole hours, so hour rollups answer.
WINDOWS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
}
TAG = "transaction"


@dataclass(frozen=True)
class TransactionSummary:
    name: str
    count: int
    per_minute: float  # throughput, as Sentry shows it (tpm)
    p50: float | None  # ms
    p95: float | None  # ms
    failure_rate: float | None  # 0–1


def _by_name(values: list[GroupValue] | Exception) -> dict[str, float | None]:
    if isinstance(values, Exception):  # the requests below are fixed and valid; never expected
        raise values
    return {v.labels.get(TAG, ""): v.value for v in values}


@dataclass(frozen=True)
class PerformanceOverview:
    total: TransactionSummary  # every transaction of the project together, named ""
    transactions: list[TransactionSummary]  # busiest first


_AGGS = ((DURATION, "count"), (DURATION, "p50"), (DURATION, "p95"), (FAILED, "avg"))


def _summary(name: str, key: str, answers: list[dict[str, float | None]], window: timedelta) -> TransactionSummary:
    counts, p50, p95, failed = answers
    n = int(counts.get(key) or 0)
    return TransactionSummary(name, n, n / (window.total_seconds() / 60), p50.get(key), p95.get(key), failed.get(key))


def transaction_summaries(project: Project, *, window: timedelta, end: datetime | None = None) -> PerformanceOverview:
    """Every transaction name with data in the window, and all of them together: one
    query_batch, so a fixed number of statements however many names and rows."""
    asks = [MetricRequest(metric, {}, agg, window, group_by=TAG, grouped=True) for metric, agg in _AGGS]
    asks += [MetricRequest(metric, {}, agg, window) for metric, agg in _AGGS]
    answers = [_by_name(a) for a in query_batch(project, asks, end=end)]
    grouped, overall = answers[:4], answers[4:]
    rows = [_summary(name, name, grouped, window) for name, n in grouped[0].items() if n]
    return PerformanceOverview(
        total=_summary("", "", overall, window), transactions=sorted(rows, key=lambda r: (-r.count, r.name))
    )


def transaction_summary(
    project: Project, *, name: str, window: timedelta, end: datetime | None = None
) -> TransactionSummary:
    """One transaction name's figures over the window, from the same rollups."""
    asks = [MetricRequest(metric, {TAG: name}, agg, window) for metric, agg in _AGGS]
    return _summary(name, "", [_by_name(a) for a in query_batch(project, asks, end=end)], window)


@dataclass(frozen=True)
class TransactionTrend:
    """One transaction (or all of a project's, with `name` None) per step, oldest first."""

    starts: list[datetime]
    count: list[float | None]
    p50: list[float | None]
    p95: list[float | None]
    failure_rate: list[float | None]


def transaction_trend(
    project: Project, *, name: str | None, window: timedelta, step: timedelta, end: datetime | None = None
) -> TransactionTrend:
    end = end or timezone.now()
    tags = {TAG: name} if name is not None else {}

    def values(metric: str, agg: str) -> tuple[list[datetime], list[float | None]]:
        result = query(project, metric, tags, agg=agg, window=window, step=step, end=end)
        return [b.start for b in result.buckets], [b.value for b in result.buckets]

    starts, count = values(DURATION, "count")
    return TransactionTrend(
        starts=starts,
        count=count,
        p50=values(DURATION, "p50")[1],
        p95=values(DURATION, "p95")[1],
        failure_rate=values(FAILED, "avg")[1],
    )


def transaction_known(project: Project, name: str) -> bool:
    """Whether the project ever recorded a transaction of that name (one indexed query)."""
    return any(
        s.tags.get(TAG) == name
        for s in MetricSeries.objects.filter(project=project, name=DURATION, tags__transaction=name).only("tags")
    )


def performance_project(projects: list[Project]) -> Project | None:
    """The project to open on: the one whose transactions arrived last, not an empty demo."""
    newest = (
        MetricSeries.objects.filter(name=DURATION, project__in=projects)
        .order_by("-created_at")
        .values_list("project_id", flat=True)
        .first()
    )
    by_id = {p.pk: p for p in projects}
    return by_id.get(newest) if newest is not None else (projects[0] if projects else None)
