"""The performance view: a project's transactions with throughput, p50/p95 duration and failure
rate, with their trend; and one transaction's page. Served under the issue admin's URLs
(ErrorIssueAdmin.get_urls), read only from metric rollups (monitoring/errors/performance.py).

Bad input answers 400 (or 404 for a transaction the project never saw) naming the field."""

from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from monitoring.common.charts import Chart, Series, bar_chart, line_chart
from monitoring.errors.performance import (
    WINDOWS,
    TransactionTrend,
    performance_project,
    transaction_known,
    transaction_summaries,
    transaction_summary,
    transaction_trend,
)
from monitoring.models import Project
from monitoring.traces.selectors import slowest_transactions

PERFORMANCE_PROJECT = "monitoring.performance.project"


@dataclass
class _Scope:
    projects: list[Project]
    project: Project | None
    window_key: str
    error: str = ""

    @property
    def window(self) -> timedelta:
        return WINDOWS[self.window_key][0]

    @property
    def step(self) -> timedelta:
        return WINDOWS[self.window_key][1]


def _scope(request: HttpRequest) -> _Scope:
    projects = list(Project.objects.only("id", "name").order_by("name"))
    window_key = request.GET.get("window", "24h")
    if window_key not in WINDOWS:
        return _Scope(projects, None, "24h", f"window: one of {', '.join(WINDOWS)}")
    chosen = request.GET.get("project")
    if chosen is not None:
        project = next((p for p in projects if str(p.pk) == chosen), None)
        if project is None:
            return _Scope(projects, None, window_key, "project: no such project")
        request.session[PERFORMANCE_PROJECT] = project.pk
        return _Scope(projects, project, window_key)
    # The last choice, else the project whose transactions arrived last.
    remembered = next((p for p in projects if p.pk == request.session.get(PERFORMANCE_PROJECT)), None)
    return _Scope(projects, remembered or performance_project(projects), window_key)


def _label(window_key: str) -> str:
    return f"{window_key[:-1]} {window_key[-1]}"  # "24h" reads "24 h"


def _trend_charts(trend: TransactionTrend, *, window_label: str, step: timedelta) -> dict[str, Chart]:
    start, end = trend.starts[0], trend.starts[-1] + step
    empty = f"No transactions in the last {window_label}."
    per = "hour" if step == timedelta(hours=1) else f"{int(step / timedelta(hours=1))} h"
    return {
        "duration": line_chart(
            [
                Series("p95", list(zip(trend.starts, trend.p95))),
                Series("p50", list(zip(trend.starts, trend.p50)), fill_to="p95"),
            ],
            unit="ms",
            y_label="Duration",
            empty=empty,
            start=start,
            end=end,
        ),
        "throughput": bar_chart(
            [Series(f"transactions per {per}", list(zip(trend.starts, trend.count)))],
            unit="",
            y_label=f"Transactions per {per}",
            empty=empty,
            start=start,
            end=end,
        ),
        "failure_rate": line_chart(
            [
                Series(
                    "failure rate",
                    [(at, None if v is None else v * 100) for at, v in zip(trend.starts, trend.failure_rate)],
                    color="#dc2626",
                )
            ],
            unit="%",
            y_label="Failed",
            empty=empty,
            start=start,
            end=end,
        ),
    }


def _context(model_admin, request: HttpRequest, scope: _Scope, title: str) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "projects": scope.projects,
        "project": scope.project,
        "windows": list(WINDOWS),
        "window": scope.window_key,
        "error": scope.error,
        "performance_url": reverse("admin:monitoring_performance"),
    }


def performance_view(model_admin, request: HttpRequest) -> TemplateResponse:
    scope = _scope(request)
    context = _context(model_admin, request, scope, "Performance")
    if scope.project is not None and not scope.error:
        now = timezone.now()
        overview = transaction_summaries(scope.project, window=scope.window, end=now)
        trend = transaction_trend(scope.project, name=None, window=scope.window, step=scope.step, end=now)
        detail = reverse("admin:monitoring_transaction")
        here: dict[str, str | int] = {"project": scope.project.pk, "window": scope.window_key}
        context.update(
            overview=overview,
            charts=_trend_charts(trend, window_label=_label(scope.window_key), step=scope.step),
            rows=[(row, f"{detail}?{urlencode({**here, 'name': row.name})}") for row in overview.transactions],
        )
    status = 400 if scope.error else 200
    return TemplateResponse(request, "admin/monitoring/errorissue/performance.html", context, status=status)


def transaction_view(model_admin, request: HttpRequest) -> TemplateResponse:
    scope = _scope(request)
    name = request.GET.get("name", "").strip()
    status = 400 if scope.error else 200
    if not scope.error and not name:
        scope.error, status = "name: the transaction's name is required", 400
    elif not scope.error and scope.project is None:
        scope.error, status = "project: no project has transactions", 400
    elif not scope.error and scope.project is not None and not transaction_known(scope.project, name):
        scope.error, status = f"name: no transaction {name!r} in {scope.project.name}", 404
    context = _context(model_admin, request, scope, name or "Transaction")
    context["name"] = name
    if not scope.error and scope.project is not None:
        now = timezone.now()
        trend = transaction_trend(scope.project, name=name, window=scope.window, step=scope.step, end=now)
        context.update(
            summary=transaction_summary(scope.project, name=name, window=scope.window, end=now),
            slowest=slowest_transactions(scope.project, name=name, window=scope.window, end=now),
            charts=_trend_charts(trend, window_label=_label(scope.window_key), step=scope.step),
        )
    return TemplateResponse(request, "admin/monitoring/errorissue/transaction.html", context, status=status)
