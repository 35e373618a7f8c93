"""Digest opt-ins (each person their own; a superuser anyone's), the digest outbox, and the
monthly SLA reports (HTML and CSV) per status page and per project."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin
from unfold.decorators import action

from alerts.digests.selectors import SlaReport, month_bounds, sla_months, sla_report_for_page, sla_report_for_project
from alerts.digests.services import VIEW_PROJECT, digest_retry
from alerts.models import DigestDelivery, DigestSubscription, StatusPage
from monitoring.common.formatting import human_duration
from monitoring.models import Project

PAGE_PERMISSION = "alerts.view_statuspage"
PROJECT_PERMISSION = "monitoring.view_project"


class DigestSubscriptionForm(forms.ModelForm):
    class Meta:
        model = DigestSubscription
        fields = ("user", "project", "cadence")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.email:
            raise forms.ValidationError("This user has no email address to send the digest to.")
        return user


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(ModelAdmin):
    form = DigestSubscriptionForm
    list_display = ("project", "cadence", "user", "created_at")
    list_filter = ("cadence", "project")
    list_select_related = ("user", "project")
    list_before_template = "admin/alerts/digests/sla_link.html"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.filter(user=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        users = form.base_fields["user"]
        if not request.user.is_superuser:
            # One's own opt-ins only: the only choice is oneself.
            users.queryset = get_user_model().objects.filter(pk=request.user.pk)
            users.initial = request.user.pk
        return form

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and obj.user_id != request.user.pk:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    # Whoever may see projects in the admin may opt in: the digest says no more than that.
    def has_view_permission(self, request, obj=None):
        return self._reader(request) and self._own(request, obj)

    def has_add_permission(self, request):
        return self._reader(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self._reader(request)

    @staticmethod
    def _reader(request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and user.has_perm(VIEW_PROJECT)

    @staticmethod
    def _own(request, obj) -> bool:
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "sla_url": reverse("admin:alerts_sla_reports")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("sla/", view(self.sla_index_view), name="alerts_sla_reports"),
            path("sla/page/<slug:slug>/<str:month>/", view(self.sla_page_view), name="alerts_sla_page"),
            path("sla/project/<slug:slug>/<str:month>/", view(self.sla_project_view), name="alerts_sla_project"),
            *super().get_urls(),
        ]

    def sla_index_view(self, request):
        user = request.user
        if not (user.has_perm(PAGE_PERMISSION) or user.has_perm(PROJECT_PERMISSION)):
            raise PermissionDenied
        months = sla_months(now=timezone.now())
        pages = (
            list(StatusPage.objects.order_by("title").values("slug", "title")) if user.has_perm(PAGE_PERMISSION) else []
        )
        projects = (
            list(Project.objects.order_by("name").values("slug", "name")) if user.has_perm(PROJECT_PERMISSION) else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Monthly SLA reports",
            "opts": self.model._meta,
            "months": months,
            "pages": [
                (p["title"], [(m, reverse("admin:alerts_sla_page", args=[p["slug"], m])) for m in months])
                for p in pages
            ],
            "projects": [
                (p["name"], [(m, reverse("admin:alerts_sla_project", args=[p["slug"], m])) for m in months])
                for p in projects
            ],
        }
        return TemplateResponse(request, "admin/alerts/digests/sla_index.html", context)

    def sla_page_view(self, request, slug: str, month: str):
        if not request.user.has_perm(PAGE_PERMISSION):
            raise PermissionDenied
        page = get_object_or_404(StatusPage, slug=slug)
        return self._sla_response(
            request, month, lambda: sla_report_for_page(page=page, month=month, now=timezone.now())
        )

    def sla_project_view(self, request, slug: str, month: str):
        if not request.user.has_perm(PROJECT_PERMISSION):
            raise PermissionDenied
        project = get_object_or_404(Project, slug=slug)
        return self._sla_response(
            request, month, lambda: sla_report_for_project(project=project, month=month, now=timezone.now())
        )

    def _sla_response(self, request, month: str, build):
        try:
            month_bounds(month)
        except ValueError as exc:
            return HttpResponseBadRequest(f"month: {exc}", content_type="text/plain")
        wanted = request.GET.get("format", "html")
        if wanted not in ("html", "csv"):
            return HttpResponseBadRequest("format: must be html or csv", content_type="text/plain")
        report: SlaReport = build()
        previous = f"{report.start - timedelta(days=1):%Y-%m}"
        following = f"{report.end:%Y-%m}"
        if wanted == "csv":
            return _sla_csv(report, name=request.resolver_match.kwargs["slug"])
        context = {
            **self.admin_site.each_context(request),
            "title": f"SLA report: {report.title}, {report.start:%B %Y}",
            "opts": self.model._meta,
            "report": report,
            "mtta": human_duration(report.response.mtta) if report.response else "",
            "mttr": human_duration(report.response.mttr) if report.response else "",
            "csv_url": request.path + "?format=csv",
            "previous_month": previous,
            "previous_url": request.path.replace(f"/{month}/", f"/{previous}/"),
            "next_month": following,
            "next_url": request.path.replace(f"/{month}/", f"/{following}/"),
            "index_url": reverse("admin:alerts_sla_reports"),
        }
        return TemplateResponse(request, "admin/alerts/digests/sla_report.html", context)


def _sla_csv(report: SlaReport, *, name: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-{name}-{report.month}.csv"'
    out = csv.writer(response)
    out.writerow(
        [
            "component",
            "probes",
            "uptime_pct",
            "uptime_without_maintenance_pct",
            "downtime_minutes",
            "downtime_minutes_outside_maintenance",
            "maintenance_minutes",
        ]
    )
    for line in [*report.lines, report.total]:
        out.writerow(
            [
                line.name,
                line.probes,
                _figure(line.uptime_pct, 3),
                _figure(line.uptime_outside_pct, 3),
                _figure(line.downtime_minutes, 1),
                _figure(line.downtime_minutes_outside, 1),
                _figure(line.maintenance_minutes, 1),
            ]
        )
    out.writerow([])
    out.writerow(["incident", "kind", "started_at", "resolved_at", "minutes_in_month"])
    for incident in report.incidents:
        out.writerow(
            [
                incident.name,
                incident.kind,
                incident.started_at.isoformat(),
                incident.resolved_at.isoformat() if incident.resolved_at else "",
                _figure(incident.minutes, 1),
            ]
        )
    return response


def _figure(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ModelAdmin):
    list_display = ("subscription", "period_start", "to", "status", "attempts", "delivered_at", "last_error")
    list_filter = ("status",)
    list_select_related = ("subscription__user", "subscription__project")
    readonly_fields = [f.name for f in DigestDelivery._meta.fields]
    show_full_result_count = False
    actions = ["retry"]

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.filter(subscription__user=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @action(description="Send the selected failed digests again")
    def retry(self, request, queryset):
        now = timezone.now()
        queued = sum(digest_retry(delivery=d, now=now) for d in queryset)
        messages.success(request, f"{queued} digest(s) queued again; the next delivery tick sends them.")
