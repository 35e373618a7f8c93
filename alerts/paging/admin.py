"""Paging in the admin: escalation policies with their steps, on-call schedules with layers,
overrides and who is on call, and integrations (token shown once, revoked, never edited)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from alerts.intake.services import integration_create, integration_revoke
from alerts.models import EscalationPolicy, EscalationStep, Integration, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.paging.services.schedules import layer_validate, oncall_shifts, time_zone_validate

SHIFTS_SHOWN = 6


def _errors_onto(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class EscalationStepForm(forms.ModelForm):
    class Meta:
        model = EscalationStep
        fields = ("order", "delay_minutes", "channels", "schedule", "users")

    def clean(self):
        data = super().clean()
        if not self.cleaned_data.get("DELETE") and not (
            data.get("channels") or data.get("schedule") or data.get("users")
        ):
            raise ValidationError("A step must page someone: pick channels, a schedule or users.")
        return data


class EscalationStepInline(TabularInline):
    model = EscalationStep
    form = EscalationStepForm
    extra = 0
    ordering = ("order", "id")


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ModelAdmin):
    list_display = ("name", "repeat", "step_count")
    search_fields = ("name",)
    inlines = [EscalationStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @display(description="steps")
    def step_count(self, policy):
        return len(policy.steps.all())


class OnCallScheduleForm(forms.ModelForm):
    class Meta:
        model = OnCallSchedule
        fields = ("name", "time_zone", "description")

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        try:
            time_zone_validate(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["time_zone"]) from None
        return value


class OnCallLayerForm(forms.ModelForm):
    users = forms.CharField(help_text="Usernames in rotation order, separated by commas.")

    class Meta:
        model = OnCallLayer
        fields = ("name", "priority", "users", "starts_at", "rotation_seconds", "restrict_start", "restrict_end")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.users, list):
            self.initial["users"] = ", ".join(self.instance.users)

    def clean_users(self):
        return [name.strip() for name in self.cleaned_data["users"].split(",") if name.strip()]

    def clean(self):
        data = super().clean()
        if "users" in data:
            try:
                layer_validate(
                    users=data["users"],
                    restrict_start=data.get("restrict_start"),
                    restrict_end=data.get("restrict_end"),
                )
            except ValidationError as exc:
                _errors_onto(self, exc)
        return data


class OnCallLayerInline(TabularInline):
    model = OnCallLayer
    form = OnCallLayerForm
    extra = 0


class OnCallOverrideForm(forms.ModelForm):
    class Meta:
        model = OnCallOverride
        fields = ("user", "starts_at", "ends_at")

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "An override must end after it starts.")
        return data


class OnCallOverrideInline(TabularInline):
    model = OnCallOverride
    form = OnCallOverrideForm
    extra = 0
    raw_id_fields = ("user",)


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(ModelAdmin):
    form = OnCallScheduleForm
    list_display = ("name", "time_zone", "on_call_now")
    search_fields = ("name",)
    readonly_fields = ("shifts_display",)
    fields = ("name", "time_zone", "description", "shifts_display")
    inlines = [OnCallLayerInline, OnCallOverrideInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("layers")

    @display(description="on call now")
    def on_call_now(self, schedule):
        shifts = oncall_shifts(schedule=schedule, start=timezone.now(), count=1)
        if not shifts or shifts[0].starts_at > timezone.now():
            return "nobody"
        return ", ".join(u.get_username() for u in shifts[0].users)

    @display(description="who is on call now, and the next shifts")
    def shifts_display(self, schedule):
        if not schedule.pk:
            return "—"
        now = timezone.now()
        shifts = oncall_shifts(schedule=schedule, start=now, count=SHIFTS_SHOWN)
        return render_to_string(
            "alerts/oncall/admin_shifts.html", {"shifts": shifts, "now": now, "time_zone": schedule.time_zone}
        )


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = ("name", "kind", "project", "default_severity", "channels", "escalation_policy")


@admin.register(Integration)
class IntegrationAdmin(ModelAdmin):
    form = IntegrationForm
    list_display = ("name", "kind", "project", "token_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("kind", "project")
    list_select_related = ("project",)
    search_fields = ("name",)
    readonly_fields = ("token_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # The kind picks which endpoint the token works on; a new kind is a new integration.
        return (*self.readonly_fields, "kind") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = integration_create(
            name=data["name"],
            kind=data["kind"],
            project=data.get("project"),
            default_severity=data["default_severity"],
            escalation_policy=data.get("escalation_policy"),
        )
        # The admin's own messages, redirect and m2m save describe `obj`: make it the saved row.
        obj.pk, obj.token_prefix, obj.token_hash = (
            created.integration.pk,
            created.integration.token_prefix,
            created.integration.token_hash,
        )
        obj.created_at = created.integration.created_at
        obj._state.adding, obj._state.db = False, created.integration._state.db
        path = "alertmanager" if data["kind"] == Integration.Kind.ALERTMANAGER else "events"
        messages.warning(
            request,
            format_html(
                "Copy the token now, it is not shown again: <code>{}</code> (POST to /api/v1/alerts/{} with "
                "<code>Authorization: Bearer …</code> or <code>?token=…</code>)",
                created.token,
                path,
            ),
        )

    @action(description="Revoke the selected integrations' tokens")
    def revoke(self, request, queryset):
        for integration in queryset.filter(revoked_at=None):
            integration_revoke(integration=integration)
        messages.success(request, "Revoked. Senders using these tokens now get 401.")
