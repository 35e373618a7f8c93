"""Telemetry in the admin: metric series and refusals, the Web Vitals panel and the metric explorer."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from monitoring.common.charts import BAD, GOOD, WARN, Chart, Series, line_chart, stacked_share_chart
from monitoring.models import IngestRejection, MetricSeries, Project
from monitoring.telemetry.selectors.metrics import AGGREGATIONS, QueryError, metric_names, metric_tag_pairs, query
from monitoring.telemetry.selectors.web_vitals import (
    THRESHOLDS,
    WINDOWS,
    VitalTrend,
    latest_vitals_project,
    slow_actions,
    web_vitals_panel,
)

# Window shown → the step that gives a readable number of points on the chart.
EXPLORER_WINDOWS = {
    "1h": (timedelta(hours=1), timedelta(minutes=1)),
    "6h": (timedelta(hours=6), timedelta(minutes=5)),
    "24h": (timedelta(days=1), timedelta(minutes=15)),
    "7d": (timedelta(days=7), timedelta(hours=1)),
    "28d": (timedelta(days=28), timedelta(hours=6)),
}
# The Web Vitals project last chosen, so the panel reopens on it rather than on the first project.
WEB_VITALS_PROJECT = "monitoring.web_vitals.project"


class ExplorerForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all(), widget=UnfoldAdminSelectWidget)
    name = forms.CharField(
        max_length=200,
        label="metric",
        widget=UnfoldAdminTextInputWidget(attrs={"list": "metric-names", "autocomplete": "off"}),
    )
    agg = forms.ChoiceField(
        choices=[(a, a) for a in AGGREGATIONS], initial="p95", label="aggregation", widget=UnfoldAdminSelectWidget
    )
    tags = forms.CharField(
        required=False,
        help_text="key:value, key:value — all must match",
        widget=UnfoldAdminTextInputWidget(attrs={"list": "metric-tags", "autocomplete": "off"}),
    )
    window = forms.ChoiceField(
        choices=[(w, w) for w in EXPLORER_WINDOWS], initial="24h", widget=UnfoldAdminSelectWidget
    )

    def clean_tags(self):
        tags = {}
        for part in filter(None, (p.strip() for p in self.cleaned_data["tags"].split(","))):
            key, sep, value = part.partition(":")
            if not sep or not key.strip():
                raise forms.ValidationError(f"{part!r}: write tags as key:value")
            tags[key.strip()] = value.strip()
        return tags


@admin.register(MetricSeries)
class MetricSeriesAdmin(ModelAdmin):
    list_display = ("name", "project", "kind", "unit", "tags_display", "created_at")
    list_filter = ("kind", "project")
    list_select_related = ("project",)
    search_fields = ("name",)
    readonly_fields = ("project", "name", "kind", "unit", "tags", "tags_hash", "created_at")
    show_full_result_count = False  # no COUNT(*) over a big table on every page
    change_list_template = "admin/monitoring/telemetry/series_change_list.html"

    def has_add_permission(self, request):
        return False  # series are made by ingest, under the project's limits

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="tags")
    def tags_display(self, series):
        return ", ".join(f"{k}={v}" for k, v in sorted(series.tags.items())) or "—"

    def get_urls(self):
        return [
            path("web-vitals/", self.admin_site.admin_view(self.web_vitals_view), name="monitoring_web_vitals"),
            path("explorer/", self.admin_site.admin_view(self.explorer_view), name="monitoring_metric_explorer"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "web_vitals_url": reverse("admin:monitoring_web_vitals"),
            "explorer_url": reverse("admin:monitoring_metric_explorer"),
        }
        return super().changelist_view(request, extra_context)

    def web_vitals_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        projects = list(Project.objects.only("id", "name"))
        by_id = {p.pk: p for p in projects}
        chosen = request.GET.get("project")
        error = ""
        if chosen is not None:
            project = next((p for p in projects if str(p.pk) == chosen), None)
            if project is None:
                error = "project: no such project"
            elif request.session.get(WEB_VITALS_PROJECT) != project.pk:
                # Written only when it changes: a session save is a write on every view.
                request.session[WEB_VITALS_PROJECT] = project.pk
        else:
            # The last choice, else where vitals arrive (not an empty demo project), else the first.
            project = by_id.get(request.session.get(WEB_VITALS_PROJECT)) or by_id.get(latest_vitals_project())
            project = project or (projects[0] if projects else None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Web Vitals",
            "opts": self.model._meta,
            "projects": projects,
            "project": project,
            "error": error,
            "windows": [label for label, _ in WINDOWS],
        }
        if project and not error:
            panel = web_vitals_panel(project)
            digits = {row.name: 3 if row.name == "CLS" else 0 for row in panel.vitals}
            for row in panel.vitals:
                row.cells = [
                    {
                        "value": row.p75[label],
                        "rating": row.ratings.get(label),
                        "rating_label": (row.ratings.get(label) or "").replace("-", " "),
                        "good_share": row.good_shares.get(label),
                        "over_budget": row.within_budget(label) is False,
                        "digits": digits[row.name],
                    }
                    for label in context["windows"]
                ]
            context["panel"] = panel
            context["route_rows"] = [
                {
                    "route": r.route,
                    "count": r.count,
                    "values": [(r.p75.get(v.name), v.unit, digits[v.name]) for v in panel.vitals],
                }
                for r in panel.routes
            ]
            context["actions"] = slow_actions(project)
            context["trend_charts"] = [_trend_charts(trend, project) for trend in panel.trends]
        return TemplateResponse(
            request, "admin/monitoring/telemetry/web_vitals.html", context, status=400 if error else 200
        )

    def explorer_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExplorerForm(request.GET or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Metric explorer",
            "opts": self.model._meta,
            "form": form,
        }
        status = 200
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            window, step = EXPLORER_WINDOWS[data["window"]]
            try:
                result = query(data["project"], data["name"], data["tags"], data["agg"], window, step)
            except QueryError as exc:
                form.add_error(None, str(exc))
            else:
                context.update(result=result, chart=_chart(data, result))
        elif form.is_bound:
            status = 400
        # Suggest what exists: the names and tag values of the project asked about (or the one
        # whose telemetry arrived last), so a metric is picked rather than guessed.
        suggest = form.cleaned_data.get("project") if form.is_bound and hasattr(form, "cleaned_data") else None
        if suggest is None:
            suggest = Project.objects.filter(pk=latest_vitals_project() or 0).first() or Project.objects.first()
            if suggest is not None and not form.is_bound:
                form.initial["project"] = suggest.pk
        if suggest is not None:
            context["names"] = metric_names(suggest)
            context["tag_pairs"] = metric_tag_pairs(suggest)
        if form.errors:
            status = 400
        return TemplateResponse(request, "admin/monitoring/telemetry/explorer.html", context, status=status)


@admin.register(IngestRejection)
class IngestRejectionAdmin(ModelAdmin):
    list_display = ("day", "project", "reason", "count")
    list_filter = ("reason", "project")
    list_select_related = ("project",)
    date_hierarchy = "day"
    ordering = ("-day", "project", "reason")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _chart(data: dict, result) -> Chart:
    """The explorer's line: one point per bucket, the window pinned, the unit from the series."""
    window, step = EXPLORER_WINDOWS[data["window"]]
    unit = (
        MetricSeries.objects.filter(project=data["project"], name=data["name"]).values_list("unit", flat=True).first()
        or ""
    )
    if not result.series:
        empty = f"No series named {data['name']!r} in {data['project'].name} matches these tags."
    else:
        empty = f"No {data['name']} points in the last {data['window']}."
    points = [(b.start, b.value) for b in result.buckets]
    return line_chart(
        [Series(f"{data['agg']} of {data['name']}", points)],
        unit=unit,
        y_label=data["agg"],
        empty=empty,
        start=result.buckets[0].start if result.buckets else None,
        end=result.buckets[-1].start + step if result.buckets else None,
        y_min=None if data["agg"] in ("min", "max", "avg") else 0,
    )


def _trend_charts(trend: VitalTrend, project) -> dict:
    """A vital's three charts: shares per day, p75 per day against its budget, p75 per route."""
    unit = "" if trend.name == "CLS" else "ms"
    budget = THRESHOLDS[trend.name][0]
    empty = f"No {trend.name} samples from {project.name} in the last 28 days."
    return {
        "name": trend.name,
        "shares": stacked_share_chart(
            trend.days,
            trend.shares,
            colors={"good": GOOD, "needs improvement": WARN, "poor": BAD},
            empty=empty,
            title=f"{trend.name}: share of samples per day",
        ),
        "p75": line_chart(
            [
                Series("p75", list(zip(trend.days, trend.p75, strict=True))),
                Series("budget", [(trend.days[0], budget), (trend.days[-1], budget)], color=GOOD, dashed=True),
            ],
            unit=unit,
            y_label=f"{trend.name} p75",
            empty=empty,
            start=trend.days[0],
            end=trend.days[-1] + timedelta(days=1),
            title=f"{trend.name}: p75 per day against the budget",
        )
        if any(v is not None for v in trend.p75)
        else line_chart([Series("p75", [])], unit=unit, empty=empty),
        "routes": line_chart(
            [Series(route, list(zip(trend.days, values, strict=True))) for route, values in trend.routes.items()],
            unit=unit,
            y_label=f"{trend.name} p75",
            empty=f"No {trend.name} samples per route in the last 7 days.",
            start=trend.days[0],
            end=trend.days[-1] + timedelta(days=1),
            title=f"{trend.name}: p75 per day of the busiest routes",
        ),
    }
