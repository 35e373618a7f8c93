"""Paging in the admin: escalation policies with their steps, on-call schedules with layers,
overrides and who is on call, and integrations (token shown once, revoked, never edited)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminSelectWidget

from alerts.intake.services import integration_create, integration_revoke
from alerts.models import EscalationPolicy, EscalationStep, Integration, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.paging.services.schedules import layer_handoffs, layer_validate, oncall_shifts, time_zone_validate
from alerts.pickers import SearchSelect, picker_page

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


def _clean_time_zone(form: forms.Form) -> str:
    """A schedule's time zone, as the schedule form and the handoff preview both read it."""
    value = form.cleaned_data["time_zone"].strip()
    try:
        time_zone_validate(value)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["time_zone"]) from None
    return value


class OnCallScheduleForm(forms.ModelForm):
    class Meta:
        model = OnCallSchedule
        fields = ("name", "time_zone", "description")

    clean_time_zone = _clean_time_zone


ROTATION_SLOTS = 6  # pickers shown for a new layer; an existing one gets two spare
UNITS = {"hours": 3600, "days": 86400}
HANDOFFS_SHOWN = 5


def _active_users():
    User = get_user_model()
    return User.objects.filter(is_active=True).order_by(User.USERNAME_FIELD)


def _user_picker_url(*, by_id: bool = False) -> str:
    """The user search, answering usernames (a layer stores names) or ids (an override's key)."""
    return reverse("admin:alerts_oncallschedule_users") + ("?by=id" if by_id else "")


class RotationUsersWidget(forms.MultiWidget):
    """One user picker per turn, in rotation order: "1st", "2nd", … Blank pickers are skipped.
    Each searches the users as typed (layer_validate checks the names picked)."""

    def __init__(self, slots: int):
        super().__init__([SearchSelect(_user_picker_url(), placeholder="a user") for _ in range(slots)])

    def render(self, name, value, attrs=None, renderer=None):
        values = self.decompress(value)  # a saved list of names, or the pickers as posted: padded to every slot
        base_id = (attrs or {}).get("id") or f"id_{name}"
        pickers = format_html_join(
            "",
            '<li class="flex items-center gap-1"><label for="{}" class="text-xs text-base-500">{}.</label>{}</li>',
            (
                (f"{base_id}_{n}", n + 1, widget.render(f"{name}_{n}", values[n], {"id": f"{base_id}_{n}"}, renderer))
                for n, widget in enumerate(self.widgets)
            ),
        )
        return format_html('<ol class="rotation-users flex flex-wrap gap-3">{}</ol>', pickers)

    def decompress(self, value):
        names = list(value or [])[: len(self.widgets)]
        return names + [None] * (len(self.widgets) - len(names))


class RotationUsersField(forms.MultiValueField):
    def __init__(self, *, slots: int, **kwargs):
        super().__init__(
            [forms.CharField(required=False, max_length=150) for _ in range(slots)],
            require_all_fields=False,
            widget=RotationUsersWidget(slots),
            error_messages={"required": "Pick at least one user to take turns."},
            **kwargs,
        )

    def compress(self, data_list):
        return [name for name in data_list or [] if name]

    def has_changed(self, initial, data):
        # Django compares slot by slot, up to the saved list's length: a user added in a spare
        # slot of a saved layer would count as no change, and the layer would not be saved.
        return list(initial or []) != self.compress(data)


class OnCallLayerForm(forms.ModelForm):
    """Users picked in rotation order, the rotation in hours or days, hints shown in full."""

    rotation_every = forms.IntegerField(
        min_value=1,
        initial=7,
        label="Rotate every",
        help_text="Each person's turn lasts this long.",
        widget=UnfoldAdminIntegerFieldWidget,
    )
    rotation_unit = forms.ChoiceField(
        choices=[("hours", "hours"), ("days", "days")], initial="days", label="Unit", widget=UnfoldAdminSelectWidget
    )

    class Meta:
        model = OnCallLayer
        fields = ("name", "priority", "users", "starts_at", "restrict_start", "restrict_end")
        help_texts = {
            "priority": "A higher layer wins where it has someone on call (e.g. a weekend layer over the weekly one).",
            "starts_at": f"The first turn starts here ({settings.TIME_ZONE}, the portal's time zone); "
            "handoffs below are in the schedule's time zone.",
            "restrict_start": "Optional: on call only from this time each day, in the schedule's time zone.",
            "restrict_end": "…until this time (may cross midnight, e.g. 22:00–06:00).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.users if isinstance(self.instance.users, list) else []
        self.fields["users"] = RotationUsersField(
            slots=max(ROTATION_SLOTS, len(current) + 2),
            label="Users, in rotation order",
            help_text="The first takes the first turn from the start, then the next; pick as many as rotate.",
        )
        seconds = self.instance.rotation_seconds if self.instance.pk else None
        if seconds:
            unit = "days" if seconds % UNITS["days"] == 0 else "hours"
            self.initial.setdefault("rotation_every", seconds // UNITS[unit])
            self.initial.setdefault("rotation_unit", unit)

    def clean(self):
        data = super().clean()
        every, unit = data.get("rotation_every"), data.get("rotation_unit")
        if every and unit in UNITS:
            # Stored in seconds, as the schedule arithmetic counts; people think in hours or days.
            self.instance.rotation_seconds = every * UNITS[unit]
        try:
            layer_validate(
                users=data.get("users", []),
                restrict_start=data.get("restrict_start"),
                restrict_end=data.get("restrict_end"),
                starts_at=data.get("starts_at"),
            )
        except ValidationError as exc:
            # A field that already failed keeps its own, more precise error.
            for field, errors in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        return data


class OnCallLayerInline(StackedInline):
    model = OnCallLayer
    form = OnCallLayerForm
    extra = 0
    readonly_fields = ("handoffs",)
    fields = (
        "name",
        "priority",
        "users",
        ("rotation_every", "rotation_unit"),
        "starts_at",
        ("restrict_start", "restrict_end"),
        "handoffs",
    )

    @display(description="next handoffs")
    def handoffs(self, layer):
        # Redrawn by the page's script from the preview URL as the layer's fields change.
        context = {"preview_url": reverse("admin:alerts_oncalllayer_handoffs"), "handoffs": None}
        if layer.pk:
            zone = layer.schedule.time_zone
            found = layer_handoffs(layer=layer, time_zone=zone, start=timezone.now(), count=HANDOFFS_SHOWN)
            context.update(handoffs=found, time_zone=zone)
        return render_to_string("admin/alerts/paging/handoffs_field.html", context)


class HandoffPreviewForm(forms.Form):
    """What the layer form holds, to preview its handoffs before it is saved."""

    time_zone = forms.CharField()
    starts_at = forms.SplitDateTimeField()
    rotation_every = forms.IntegerField(min_value=1)
    rotation_unit = forms.ChoiceField(choices=[(unit, unit) for unit in UNITS])
    users = forms.CharField(help_text="Usernames in rotation order, comma separated.")

    clean_time_zone = _clean_time_zone

    def clean_users(self):
        return [name.strip() for name in self.cleaned_data["users"].split(",") if name.strip()]


class OnCallOverrideForm(forms.ModelForm):
    class Meta:
        model = OnCallOverride
        fields = ("user", "starts_at", "ends_at")
        # Labels, not help texts: a table's help text hides behind an icon.
        labels = {
            "user": "On call instead",
            "starts_at": f"From ({settings.TIME_ZONE})",
            "ends_at": f"Until ({settings.TIME_ZONE})",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        # Picked from a search, not from a list of every user.
        field = forms.ModelChoiceField(
            queryset=User.objects.filter(is_active=True),
            label=self.fields["user"].label,
            widget=SearchSelect(_user_picker_url(by_id=True), placeholder="a user"),
        )
        field.label_from_instance = lambda user: user.get_username()
        self.fields["user"] = field

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "An override must end after it starts.")
        return data


class OnCallOverrideInline(TabularInline):
    model = OnCallOverride
    form = OnCallOverrideForm
    extra = 0

    class Media:
        css = {"all": ("lookout/paging.css",)}


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

    def get_urls(self):
        return [
            path("users/", self.admin_site.admin_view(self.users_view), name="alerts_oncallschedule_users"),
            path(
                "handoffs/",
                self.admin_site.admin_view(self.handoffs_view),
                name="alerts_oncalllayer_handoffs",
            ),
            *super().get_urls(),
        ]

    def users_view(self, request):
        """The user pickers' search: active users whose name holds ?term=, a page at a time,
        for whoever may edit schedules."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        User = get_user_model()
        users = _active_users()
        term = request.GET.get("term", "").strip()
        if term:
            users = users.filter(**{f"{User.USERNAME_FIELD}__icontains": term})
        key = "pk" if request.GET.get("by") == "id" else User.USERNAME_FIELD
        return picker_page(request, users, label=lambda user: user.get_username(), key=key)

    def handoffs_view(self, request):
        """The next handoffs of a layer as its form holds it, unsaved: 400 naming the field when
        the form can't be read yet (no users, no start)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = HandoffPreviewForm(request.GET)
        if not form.is_valid():
            fields = ", ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            return HttpResponse(format_html('<p class="text-base-500">No preview yet ({}).</p>', fields), status=400)
        data = form.cleaned_data
        layer = OnCallLayer(
            users=data["users"],
            starts_at=data["starts_at"],
            rotation_seconds=data["rotation_every"] * UNITS[data["rotation_unit"]],
        )
        found = layer_handoffs(layer=layer, time_zone=data["time_zone"], start=timezone.now(), count=HANDOFFS_SHOWN)
        return TemplateResponse(
            request, "admin/alerts/paging/handoffs.html", {"handoffs": found, "time_zone": data["time_zone"]}
        )

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
