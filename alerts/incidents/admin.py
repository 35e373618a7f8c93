"""Incidents in the admin: the list with response figures, and the incident page (alerts,
timeline, and the acknowledge / resolve / reopen / comment actions, each through a service).

Silences, maintenance windows (with their calendar), inhibit rules and target dependencies.

Forms check through the noise services, so a bad matcher, cron expression or RRULE is an
error on its field and nothing is saved.
"""

import zoneinfo
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from alerts.incidents.forms import SCOPES, MaintenanceWindowForm, MatchersField, SilenceForm, matchers_text
from alerts.incidents.matchers import NAME as LABEL_NAME
from alerts.incidents.selectors import (
    incident_sources,
    incident_timeline,
    incidents_with_mutes,
    maintenance_calendar,
    response_figures,
    window_scope,
)
from alerts.incidents.services.incidents import (
    incident_acknowledge,
    incident_comment,
    incident_reopen,
    incident_resolve,
)
from alerts.incidents.services.noise import silence_expire, window_occurrences
from alerts.models import Incident, InhibitRule, MaintenanceWindow, Silence, TargetDependency
from monitoring.common.formatting import human_duration

FIGURES_WINDOW = timedelta(days=30)


class IncidentChangeList(ChangeList):
    """The page of incidents, each with why it is muted (silence, maintenance, inhibition): the
    mutes are read once for the page, not once a row."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = incidents_with_mutes(self.result_list, now=timezone.now())


@admin.register(Incident)
class IncidentAdmin(ModelAdmin):
    list_display = (
        "title",
        "status_display",
        "severity",
        "project",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "time_to_acknowledge",
    )
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

    def get_changelist(self, request, **kwargs):
        return IncidentChangeList

    @display(description="status", ordering="status")
    def status_display(self, incident):
        reason = getattr(incident, "mute_reason", "")
        if not reason:
            return incident.get_status_display()
        # "Triggered" alone reads as "someone is being paged"; a muted one says it isn't, and why.
        return format_html(
            '{} <span class="muted-badge uppercase text-xs border border-base-300 rounded px-1" title="{}">muted</span>'
            ' <span class="text-xs text-base-500">{}</span>',
            incident.get_status_display(),
            reason,
            reason,
        )

    @display(description="time to ack")
    def time_to_acknowledge(self, incident):
        return human_duration(incident.acknowledged_at - incident.opened_at) if incident.acknowledged_at else "—"

    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        since = now - FIGURES_WINDOW
        overall = response_figures(since=since, until=now)["all"]
        by_severity = response_figures(since=since, until=now, by="severity")
        extra_context = {
            **(extra_context or {}),
            "figures": {
                "window_days": FIGURES_WINDOW.days,
                "all": overall,
                "mtta": human_duration(overall.mtta),
                "mttr": human_duration(overall.mttr),
                "by_severity": [
                    (sev, f, human_duration(f.mtta), human_duration(f.mttr)) for sev, f in by_severity.items()
                ],
            },
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:incident_id>/act/<str:verb>/",
                self.admin_site.admin_view(self.act_view),
                name="alerts_incident_act",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        incident = get_object_or_404(
            Incident.objects.select_related("project", "rule", "integration", "acknowledged_by", "resolved_by"),
            pk=object_id,
        )
        alerts = list(incident.alerts.all())
        (incident,) = incidents_with_mutes([incident], now=timezone.now(), alerts=alerts)
        context = {
            **self.admin_site.each_context(request),
            "title": str(incident),
            "opts": self.model._meta,
            "incident": incident,
            "alerts": alerts,
            "sources": incident_sources(incident=incident, alerts=alerts),
            "channels": list(incident.channels.all()),
            "timeline": incident_timeline(incident=incident),
            "can_change": self.has_change_permission(request, incident),
            "time_to_ack": human_duration(incident.acknowledged_at - incident.opened_at)
            if incident.acknowledged_at
            else "—",
            "time_to_resolve": human_duration(incident.resolved_at - incident.opened_at)
            if incident.resolved_at
            else "—",
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
        self._each(
            request,
            queryset.exclude(status=Incident.Status.RESOLVED),
            lambda i: incident_acknowledge(incident=i, actor=request.user, now=now),
            "acknowledged",
        )

    @action(description="Resolve", permissions=["change"])
    def resolve_selected(self, request, queryset):
        now = timezone.now()
        self._each(
            request,
            queryset.exclude(status=Incident.Status.RESOLVED),
            lambda i: incident_resolve(incident=i, actor=request.user, now=now),
            "resolved",
        )


VERBS = {
    "acknowledge": lambda incident, request, now: incident_acknowledge(incident=incident, actor=request.user, now=now),
    "resolve": lambda incident, request, now: incident_resolve(
        incident=incident, actor=request.user, now=now, message=request.POST.get("message", "").strip()
    ),
    "reopen": lambda incident, request, now: incident_reopen(incident=incident, actor=request.user, now=now),
    "comment": lambda incident, request, now: incident_comment(
        incident=incident, actor=request.user, message=request.POST.get("message", ""), now=now
    ),
}

DONE = {"acknowledge": "Acknowledged.", "resolve": "Resolved.", "reopen": "Reopened.", "comment": "Comment added."}


@admin.register(Silence)
class SilenceAdmin(ModelAdmin):
    form = SilenceForm
    list_display = ("matchers_display", "state", "starts_at", "ends_at", "created_by", "comment")
    list_select_related = ("created_by",)
    search_fields = ("comment",)
    show_full_result_count = False
    actions = ["expire"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithUser(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return WithUser

    def get_changeform_initial_data(self, request):
        now = timezone.now().replace(second=0, microsecond=0)
        return {"starts_at": now, "ends_at": now + timedelta(hours=2), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        obj.comment = obj.comment.strip()
        super().save_model(request, obj, form, change)

    @display(description="matchers")
    def matchers_display(self, silence):
        return format_html("<code>{}</code>", matchers_text(silence.matchers))

    @display(description="state")
    def state(self, silence):
        now = timezone.now()
        return "pending" if silence.starts_at > now else ("active" if silence.ends_at > now else "expired")

    @action(description="Expire now", permissions=["change"])
    def expire(self, request, queryset):
        now = timezone.now()
        expired = [silence_expire(silence=s, now=now) for s in queryset.filter(ends_at__gt=now)]
        self.message_user(request, f"{len(expired)} silence(s) expired.", messages.SUCCESS)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ModelAdmin):
    form = MaintenanceWindowForm
    list_display = (
        "name",
        "scope",
        "recurrence",
        "expression",
        "time_zone",
        "duration_minutes",
        "effect",
        "next_window",
    )
    list_filter = ("effect", "recurrence")
    list_select_related = ("project", "target", "tag")
    search_fields = ("name", "comment")
    autocomplete_fields = ("target",)
    show_full_result_count = False
    list_before_template = "admin/alerts/maintenance_calendar_link.html"
    # Only the picker of the chosen scope shows (unfold's Alpine conditions), so no box is left
    # empty by mistake; the form still checks the chosen one is filled.
    conditional_fields = {name: f"scope == '{name}'" for name in SCOPES}

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @display(description="covers")
    def scope(self, window):
        return window_scope(window)

    @display(description="next window")
    def next_window(self, window):
        now = timezone.now()
        found = window_occurrences(window=window, start=now, end=now + timedelta(days=366))
        if not found:
            return "—"
        local = found[0].starts_at.astimezone(zoneinfo.ZoneInfo(window.time_zone))
        return f"{local:%Y-%m-%d %H:%M} {window.time_zone}"

    def get_urls(self):
        return [
            path("calendar/", self.admin_site.admin_view(self.calendar_view), name="alerts_maintenance_calendar"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "calendar_url": reverse("admin:alerts_maintenance_calendar")}
        return super().changelist_view(request, extra_context)

    def calendar_view(self, request):
        """A week or a month of windows, each day listing what is covered, when, and whether it
        mutes or pauses; ?view=week|month&date=YYYY-MM-DD&tz=Area/City."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        errors = []
        zone = request.GET.get("tz", "UTC")
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.append(f"tz: {zone!r} is not a known time zone (e.g. Europe/Berlin); showing UTC.")
            tz, zone = zoneinfo.ZoneInfo("UTC"), "UTC"
        view = request.GET.get("view", "month")
        if view not in ("week", "month"):
            errors.append(f"view: {view!r} is neither week nor month; showing the month.")
            view = "month"
        today = timezone.now().astimezone(tz).date()
        try:
            anchor = date.fromisoformat(request.GET["date"]) if request.GET.get("date") else today
        except ValueError:
            errors.append(f"date: {request.GET['date']!r} is not a date like 2026-03-01; showing today.")
            anchor = today
        if view == "week":
            first = anchor - timedelta(days=anchor.weekday())
            start, days = first, 7
            previous, following = first - timedelta(days=7), first + timedelta(days=7)
            heading = f"Week of {first:%a %-d %b %Y}"
        else:
            first = anchor.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            previous = (first - timedelta(days=1)).replace(day=1)
            start = first - timedelta(days=first.weekday())
            days = ((following - start).days + 6) // 7 * 7
            heading = f"{first:%B %Y}"
        calendar = maintenance_calendar(start=start, days=days, time_zone=zone)
        cells = [
            {
                "day": d.day,
                "entries": d.entries(),
                "today": d.day == today,
                "outside": view == "month" and d.day.month != first.month,
            }
            for d in calendar
        ]

        def link(**changes):
            return "?" + urlencode({"view": view, "date": anchor.isoformat(), "tz": zone, **changes})

        context = {
            **self.admin_site.each_context(request),
            "title": "Maintenance calendar",
            "opts": self.model._meta,
            "zone": zone,
            "view": view,
            "heading": heading,
            "errors": errors,
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "weeks": [cells[i : i + 7] for i in range(0, len(cells), 7)],
            "links": {
                "previous": link(date=previous.isoformat()),
                "next": link(date=following.isoformat()),
                "today": link(date=today.isoformat()),
                "week": link(view="week"),
                "month": link(view="month"),
            },
            "changelist_url": reverse("admin:alerts_maintenancewindow_changelist"),
            "add_url": reverse("admin:alerts_maintenancewindow_add"),
        }
        return TemplateResponse(
            request, "admin/alerts/maintenance_calendar.html", context, status=400 if errors else 200
        )


class InhibitRuleForm(forms.ModelForm):
    source_matchers = MatchersField(help_text='Alerts that mute others while they fire, e.g. {severity="critical"}.')
    target_matchers = MatchersField(help_text='Alerts that are muted, e.g. {severity=~"high|medium|low"}.')
    equal = forms.CharField(
        required=False,
        help_text="Labels both alerts must share, comma separated "
        "(e.g. target_id); alerts without them are never muted.",
    )

    class Meta:
        model = InhibitRule
        fields = ("name", "source_matchers", "target_matchers", "equal", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.initial.get("equal"), list):
            self.initial["equal"] = ", ".join(self.initial["equal"])

    def clean_equal(self):
        names = [n.strip() for n in self.cleaned_data["equal"].split(",") if n.strip()]
        bad = [n for n in names if not LABEL_NAME.match(n)]
        if bad:
            raise ValidationError(f"Not label names: {', '.join(bad)}.")
        return names


@admin.register(InhibitRule)
class InhibitRuleAdmin(ModelAdmin):
    form = InhibitRuleForm
    list_display = ("name", "source", "target", "equal", "enabled")
    list_editable = ("enabled",)

    @display(description="source")
    def source(self, rule):
        return format_html("<code>{}</code>", matchers_text(rule.source_matchers))

    @display(description="target")
    def target(self, rule):
        return format_html("<code>{}</code>", matchers_text(rule.target_matchers))


@admin.register(TargetDependency)
class TargetDependencyAdmin(ModelAdmin):
    list_display = ("target", "depends_on")
    list_select_related = ("target", "depends_on")
    autocomplete_fields = ("target", "depends_on")
    search_fields = ("target__name", "depends_on__name")
