"""Silences, maintenance windows (with their calendar), inhibit rules and target dependencies.

Forms check through the noise services, so a bad matcher, cron expression or RRULE is an
error on its field and nothing is saved.
"""

import json
import zoneinfo
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from alerts.matchers import NAME as LABEL_NAME
from alerts.matchers import parse_matchers
from alerts.models import InhibitRule, MaintenanceWindow, Silence, TargetDependency
from alerts.selectors.maintenance import maintenance_calendar
from alerts.services.noise import maintenance_validate, silence_expire, silence_validate, window_occurrences

CALENDAR_DAYS = 30


def matchers_text(value) -> str:
    try:
        return "{" + ", ".join(str(m) for m in parse_matchers(value or [])) + "}"
    except ValidationError:
        return json.dumps(value)


class MatchersField(forms.CharField):
    """Matchers typed as `{service="api", env=~"prod|staging"}` (or a JSON list); stored as a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 80}))
        kwargs.setdefault("help_text", 'e.g. {service="api", env=~"prod|staging"}; ops =, !=, =~, !~ '
                                       "(regular expressions match whole values).")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return matchers_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if text.startswith("["):
            try:
                text = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        return [m.as_dict() for m in parse_matchers(text)]


class SilenceForm(forms.ModelForm):
    matchers = MatchersField()

    class Meta:
        model = Silence
        fields = ("matchers", "starts_at", "ends_at", "comment")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if "matchers" in self.errors:
            return data
        try:
            data["matchers"] = silence_validate(
                matchers=data.get("matchers"), starts_at=data.get("starts_at"), ends_at=data.get("ends_at"),
                created_by=self.instance.created_by or self.user, comment=data.get("comment", ""))
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name not in self.errors:
                    self.add_error(name if name in self.fields else None, errors)
        return data


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


class MaintenanceWindowForm(forms.ModelForm):
    class Meta:
        model = MaintenanceWindow
        fields = ("name", "project", "target", "tag", "recurrence", "expression", "starts_at", "duration_minutes",
                  "time_zone", "until", "effect", "comment")

    def clean(self):
        data = super().clean()
        try:
            maintenance_validate(
                recurrence=data.get("recurrence", ""), expression=data.get("expression", ""),
                time_zone=data.get("time_zone", ""), starts_at=data.get("starts_at"), until=data.get("until"),
                duration_minutes=data.get("duration_minutes"),
                scoped_by=[name for name in ("project", "target", "tag") if data.get(name)])
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name not in self.errors:
                    self.add_error(name, errors)
        return data


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ModelAdmin):
    form = MaintenanceWindowForm
    list_display = ("name", "scope", "recurrence", "expression", "time_zone", "duration_minutes", "effect",
                    "next_window")
    list_filter = ("effect", "recurrence")
    list_select_related = ("project", "target", "tag")
    search_fields = ("name", "comment")
    autocomplete_fields = ("target",)
    show_full_result_count = False
    list_before_template = "admin/alerts/maintenance_calendar_link.html"

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @display(description="covers")
    def scope(self, window):
        if window.target_id:
            return f"target {window.target}"
        if window.project_id:
            return f"project {window.project}"
        if window.tag_id:
            return f"tag {window.tag}"
        return "everything"

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
        if not self.has_view_permission(request):
            raise PermissionDenied
        zone = request.GET.get("tz", "UTC")
        status = 200
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz, zone, status = zoneinfo.ZoneInfo("UTC"), "UTC", 400
        today = timezone.now().astimezone(tz).date()
        days = maintenance_calendar(start=today, days=CALENDAR_DAYS, time_zone=zone)
        context = {
            **self.admin_site.each_context(request),
            "title": "Maintenance calendar",
            "opts": self.model._meta,
            "zone": zone,
            "error": "" if status == 200 else f"{request.GET.get('tz')!r} is not a known time zone; showing UTC.",
            "days": [(d.day, [(o, o.starts_at.astimezone(tz), o.ends_at.astimezone(tz)) for o in d.occurrences])
                     for d in days],
            "changelist_url": reverse("admin:alerts_maintenancewindow_changelist"),
        }
        return TemplateResponse(request, "admin/alerts/maintenance_calendar.html", context, status=status)


class InhibitRuleForm(forms.ModelForm):
    source_matchers = MatchersField(help_text='Alerts that mute others while they fire, e.g. {severity="critical"}.')
    target_matchers = MatchersField(help_text='Alerts that are muted, e.g. {severity=~"high|medium|low"}.')
    equal = forms.CharField(required=False, help_text="Labels both alerts must share, comma separated "
                                                      "(e.g. target_id); alerts without them are never muted.")

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
