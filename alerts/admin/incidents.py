"""Incidents in the admin: the list with response figures, and the incident page (alerts,
timeline, and the acknowledge / resolve / reopen / comment actions, each through a service)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from alerts.models import Incident
from alerts.selectors.incidents import incident_timeline, response_figures
from alerts.services.incidents import incident_acknowledge, incident_comment, incident_reopen, incident_resolve

FIGURES_WINDOW = timedelta(days=30)


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


@admin.register(Incident)
class IncidentAdmin(ModelAdmin):
    list_display = ("title", "status", "severity", "project", "opened_at", "acknowledged_at", "resolved_at",
                    "time_to_acknowledge")
    list_filter = ("status", "severity", "source", "project")
    list_select_related = ("project",)
    search_fields = ("title", "dedup_key")
    ordering = ("-opened_at", "-id")
    show_full_result_count = False
    list_per_page = 50
    list_before_template = "admin/alerts/incident_figures.html"
    actions = ["acknowledge_selected", "resolve_selected"]

    def has_add_permission(self, request):
        return False  # incidents come from alerts

    @display(description="time to ack")
    def time_to_acknowledge(self, incident):
        return duration(incident.acknowledged_at - incident.opened_at) if incident.acknowledged_at else "—"

    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        since = now - FIGURES_WINDOW
        overall = response_figures(since=since, until=now)["all"]
        by_severity = response_figures(since=since, until=now, by="severity")
        extra_context = {
            **(extra_context or {}),
            "figures": {"window_days": FIGURES_WINDOW.days, "all": overall,
                        "mtta": duration(overall.mtta), "mttr": duration(overall.mttr),
                        "by_severity": [(sev, f, duration(f.mtta), duration(f.mttr)) for sev, f in by_severity.items()]},
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("<int:incident_id>/act/<str:verb>/", self.admin_site.admin_view(self.act_view),
                 name="alerts_incident_act"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        incident = get_object_or_404(Incident.objects.select_related(
            "project", "rule", "integration", "acknowledged_by", "resolved_by"), pk=object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": str(incident),
            "opts": self.model._meta,
            "incident": incident,
            "alerts": list(incident.alerts.all()),
            "channels": list(incident.channels.all()),
            "timeline": incident_timeline(incident=incident),
            "can_change": self.has_change_permission(request, incident),
            "time_to_ack": duration(incident.acknowledged_at - incident.opened_at) if incident.acknowledged_at else "—",
            "time_to_resolve": duration(incident.resolved_at - incident.opened_at) if incident.resolved_at else "—",
            "changelist_url": reverse("admin:alerts_incident_changelist"),
        }
        return TemplateResponse(request, "admin/alerts/incident_page.html", context)

    @method_decorator(require_POST)
    def act_view(self, request, incident_id: int, verb: str):
        incident = get_object_or_404(Incident, pk=incident_id)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        page = reverse("admin:alerts_incident_change", args=[incident.pk])
        if verb not in VERBS:
            messages.error(request, f"Unknown action {verb!r}.")
            return HttpResponseRedirect(page)
        try:
            VERBS[verb](incident, request, timezone.now())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, DONE[verb])
        return HttpResponseRedirect(page)

    def _each(self, request, queryset, change, done: str):
        changed, refused = 0, []
        for incident in queryset:
            try:
                change(incident)
                changed += 1
            except ValidationError as exc:
                refused.append(f"{incident}: {' '.join(exc.messages)}")
        self.message_user(request, f"{changed} incident(s) {done}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @action(description="Acknowledge", permissions=["change"])
    def acknowledge_selected(self, request, queryset):
        now = timezone.now()
        self._each(request, queryset.exclude(status=Incident.Status.RESOLVED),
                   lambda i: incident_acknowledge(incident=i, actor=request.user, now=now), "acknowledged")

    @action(description="Resolve", permissions=["change"])
    def resolve_selected(self, request, queryset):
        now = timezone.now()
        self._each(request, queryset.exclude(status=Incident.Status.RESOLVED),
                   lambda i: incident_resolve(incident=i, actor=request.user, now=now), "resolved")


VERBS = {
    "acknowledge": lambda incident, request, now: incident_acknowledge(incident=incident, actor=request.user, now=now),
    "resolve": lambda incident, request, now: incident_resolve(incident=incident, actor=request.user, now=now,
                                                                 message=request.POST.get("message", "").strip()),
    "reopen": lambda incident, request, now: incident_reopen(incident=incident, actor=request.user, now=now),
    "comment": lambda incident, request, now: incident_comment(incident=incident, actor=request.user,
                                                                 message=request.POST.get("message", ""), now=now),
}

DONE = {"acknowledge": "Acknowledged.", "resolve": "Resolved.", "reopen": "Reopened.", "comment": "Comment added."}
