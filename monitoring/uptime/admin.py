from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, StackedInline
from unfold.decorators import action, display
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminTextInputWidget

from monitoring.common.charts import Marker, Series, line_chart
from monitoring.common.validators import validate_region_names
from monitoring.heartbeats.services.pings import heartbeat_next_expected
from monitoring.models import Heartbeat, Status, Tag, Target
from monitoring.uptime.models import DEFAULT_REGION
from monitoring.uptime.selectors import (
    WINDOWS,
    target_flips,
    target_history,
    target_latency_bands,
    target_regions,
    uptime_by_target,
)
from monitoring.uptime.services.actions import targets_check_now, targets_pause, targets_resume
from monitoring.uptime.services.config import (
    HEARTBEAT_FIELDS,
    HTTP_FIELDS,
    SCHEDULE_FIELDS,
    SOCKET_FIELDS,
    STATUS_FIELDS,
)
from monitoring.uptime.services.config_as_code import (
    TargetImportError,
    config_dump,
    config_parse,
    targets_export,
    targets_import,
)
from monitoring.uptime.services.rollups import floor_time

STATUS_COLOURS = {
    Status.UP: "#15803d",
    Status.DEGRADED: "#b45309",
    Status.DOWN: "#b91c1c",
    Status.PAUSED: "#6b7280",
    Status.UNKNOWN: "#6b7280",
}
FLIPS_SHOWN = 50


# The 90-day bar's colours, each with the words its legend gives it; no data is a colour of its own.
UPTIME_LEGEND = (
    ("#15803d", "≥ 99.9 %"),
    ("#b45309", "99 – 99.9 %"),
    ("#b91c1c", "< 99 %"),
    ("#e5e7eb", "no data"),
)


def _uptime_colour(pct: float | None) -> str:
    if pct is None:
        return UPTIME_LEGEND[3][0]
    return UPTIME_LEGEND[0][0] if pct >= 99.9 else UPTIME_LEGEND[1][0] if pct >= 99 else UPTIME_LEGEND[2][0]


REGION_SCAN = 5000  # distinct region lists read for the choices; regions repeat, a sample finds them


def _once(target: Target, key: str, build):
    """`build()` once per target object: the change form's template reads a read-only field's
    contents several times (six for the history), and each read ran its queries and charts again."""
    memo = target.__dict__.setdefault("_admin_once", {})
    if key not in memo:
        memo[key] = build()
    return memo[key]


def _with_new_regions(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The schedule fields with the free-text box for new regions right after the choices."""
    at = fields.index("regions") + 1
    return (*fields[:at], "new_regions", *fields[at:])


class TargetChangeList(ChangeList):
    """unfold (0.91) builds every column header again for each row, sort links included; those
    are the same for the whole page, so each is worked out once (not 1,800 times for 100 rows)."""

    def get_ordering_field_columns(self):
        if not hasattr(self, "_ordering_columns"):
            self._ordering_columns = super().get_ordering_field_columns()
        return self._ordering_columns

    def get_query_string(self, new_params=None, remove=None):
        memo = self.__dict__.setdefault("_query_strings", {})
        key = repr((sorted((new_params or {}).items()), remove))
        if key not in memo:
            memo[key] = super().get_query_string(new_params, remove)
        return memo[key]


class TargetImportForm(forms.Form):
    file = forms.FileField(help_text="JSON or YAML as written by the export (or manage.py exporttargets).")


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    search_fields = ("name",)


class HeartbeatInline(StackedInline):
    model = Heartbeat
    extra = 0
    max_num = 1
    can_delete = False
    verbose_name = "heartbeat schedule"
    fields = (
        *HEARTBEAT_FIELDS,
        "next_pings",
        "last_ping_at",
        "expected_at",
        "last_duration_ms",
    )
    readonly_fields = ("next_pings", "last_ping_at", "expected_at", "last_duration_ms")
    # Period or cron, only the one the schedule uses, and on a new target only while its kind
    # is heartbeat: unfold's conditional fields read the target's form, not an inline's.
    template_after = "admin/monitoring/target/heartbeat_inline_after.html"

    def get_fields(self, request, obj=None):
        # Before the target is saved there is no ping, expectation or run to show.
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f not in self.readonly_fields]

    def get_extra(self, request, obj=None, **kwargs):
        # A new target that becomes a heartbeat has its schedule right there, not behind "add".
        return 1 if obj is None else 0

    @display(description="next five expected pings")
    def next_pings(self, heartbeat):
        if not heartbeat.pk:
            return "shown once saved"
        zone = ZoneInfo(heartbeat.time_zone)
        moment, due = heartbeat.last_ping_at or timezone.now(), []
        for _ in range(5):
            moment = heartbeat_next_expected(heartbeat, after=moment)
            due.append(moment.astimezone(zone))
        return format_html(
            "<ol>{}</ol>{}",
            format_html_join("", "<li>{}</li>", ((f"{d:%a %Y-%m-%d %H:%M} ({heartbeat.time_zone})",) for d in due)),
            format_html(
                '<p class="text-xs text-base-500">Each may arrive up to {} s late (the grace).</p>',
                heartbeat.grace_seconds,
            ),
        )


class TargetForm(forms.ModelForm):
    """The target's regions as a choice of the regions in use plus any new ones, not raw JSON."""

    regions = forms.MultipleChoiceField(
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="Where the target is probed from: each region's workers probe it.",
    )
    new_regions = forms.CharField(
        required=False,
        label="other regions",
        widget=UnfoldAdminTextInputWidget,
        help_text="Comma-separated names of regions not listed above, e.g. eu-west, us-east.",
    )

    class Meta:
        model = Target
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = {DEFAULT_REGION, *(self.instance.regions or [] if self.instance.pk else [])}
        # Distinct lists, not every target's: a few dozen JSON values to decode instead of thousands.
        for regions in Target.objects.order_by().values_list("regions", flat=True).distinct()[:REGION_SCAN]:
            known.update(r for r in regions or [] if isinstance(r, str))
        self.fields["regions"].choices = [(r, r) for r in sorted(known)]
        self.fields["regions"].initial = self.instance.regions if self.instance.pk else [DEFAULT_REGION]

    def clean(self):
        cleaned = super().clean()
        extra = [r.strip() for r in (cleaned.get("new_regions") or "").split(",") if r.strip()]
        regions = list(dict.fromkeys([*(cleaned.get("regions") or []), *extra]))
        if cleaned.get("kind") != Target.Kind.HEARTBEAT:
            try:
                validate_region_names(regions)
            except forms.ValidationError as exc:
                self.add_error("new_regions" if extra else "regions", exc)
        cleaned["regions"] = regions or [DEFAULT_REGION]
        return cleaned

    def _post_clean(self):
        # The model field is JSON: hand it the merged list, not the checkbox values.
        self.instance.regions = self.cleaned_data.get("regions") or [DEFAULT_REGION]
        super()._post_clean()


@admin.register(Target)
class TargetAdmin(ModelAdmin):
    list_display = (
        "name",
        "project",
        "kind",
        "status_badge",
        "uptime_24h",
        "uptime_30d",
        "p95_24h",
        "last_checked",
        "cert_days_left",
    )
    list_filter = ("project", "status", "kind", "tags", "paused")
    list_select_related = ("project", "heartbeat")
    search_fields = ("name", "url", "host")
    autocomplete_fields = ("tags",)
    show_full_result_count = False  # no COUNT(*) over a big table on every page
    list_per_page = 100
    actions = ["pause", "resume", "check_now", "export_yaml", "export_json"]
    inlines = [HeartbeatInline]
    form = TargetForm
    readonly_fields = (
        "ping_url",
        *STATUS_FIELDS,
        "history_charts",
        "recent_flips",
    )
    fieldsets = (
        (None, {"fields": ("ping_url", "project", "name", "kind", "tags", "paused")}),
        ("Status", {"fields": STATUS_FIELDS}),
        ("Schedule, regions and debounce", {"fields": _with_new_regions(SCHEDULE_FIELDS)}),
        ("What to check", {"fields": (*HTTP_FIELDS, *SOCKET_FIELDS)}),
        ("History", {"fields": ("history_charts", "recent_flips")}),
    )
    # Only the chosen kind's fields show, as the kind select changes (unfold's Alpine
    # conditions); the server keeps every field, so an error always lands on a visible one.
    conditional_fields = {
        **{name: "kind != 'heartbeat'" for name in (*SCHEDULE_FIELDS, "new_regions")},
        **{name: "kind == 'http'" for name in HTTP_FIELDS},
        "host": "['tcp', 'tls', 'dns'].includes(kind)",
        "port": "['tcp', 'tls'].includes(kind)",
        "tls_warn_days": "['tls', 'http'].includes(kind)",
        **{name: "kind == 'dns'" for name in SOCKET_FIELDS if name.startswith("dns_")},
    }

    @display(description="ping URL")
    def ping_url(self, target):
        heartbeat = getattr(target, "heartbeat", None) if target.pk and target.kind == Target.Kind.HEARTBEAT else None
        if heartbeat is None:
            return "A heartbeat's ping URL is shown here once it is saved." if not target.pk else "—"
        url = f"{settings.SITE_URL}/ping/{heartbeat.ping_key}"
        return render_to_string("admin/monitoring/copyable.html", {"value": url})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.kind != Target.Kind.HEARTBEAT:
            # The ping URL belongs to heartbeats; a saved probe has none to show.
            first = fieldsets[0]
            fieldsets = ((first[0], {**first[1], "fields": first[1]["fields"][1:]}), *fieldsets[1:])
        if obj is None:
            fieldsets = tuple(f for f in fieldsets if f[0] not in ("Status", "History"))
        elif obj.kind == Target.Kind.HEARTBEAT:
            # A saved heartbeat is pushed to, never probed: nothing to schedule, check or time.
            probed_only = ("last_latency_ms", "cert_expires_at")
            fieldsets = tuple(
                (name, {**options, "fields": [f for f in options["fields"] if f not in probed_only]})
                for name, options in fieldsets
                if name not in ("Schedule, regions and debounce", "What to check")
            )
        return fieldsets

    def get_changelist(self, request, **kwargs):
        return TargetChangeList

    def get_changelist_instance(self, request):
        """Uptime figures for the whole page in two queries (24 h from hours, 30 d from days),
        set on the page's targets so the columns below make no query of their own."""
        changelist = super().get_changelist_instance(request)
        page = list(changelist.result_list)
        ids, now = [t.pk for t in page], timezone.now()
        day = uptime_by_target(target_ids=ids, window=WINDOWS["24h"], now=now)
        # The 30-day column shows uptime only: no latency histograms to decode.
        month = uptime_by_target(target_ids=ids, window=WINDOWS["30d"], now=now, percentiles=False)
        for target in page:
            target.figures_24h, target.figures_30d = day.get(target.pk), month.get(target.pk)
        return changelist

    @display(description="uptime 24 h")
    def uptime_24h(self, target):
        figures = getattr(target, "figures_24h", None)
        return f"{figures.uptime_pct:.2f} %" if figures and figures.uptime_pct is not None else "—"

    @display(description="uptime 30 d")
    def uptime_30d(self, target):
        figures = getattr(target, "figures_30d", None)
        return f"{figures.uptime_pct:.2f} %" if figures and figures.uptime_pct is not None else "—"

    @display(description="p95 24 h")
    def p95_24h(self, target):
        figures = getattr(target, "figures_24h", None)
        return f"{figures.p95_ms} ms" if figures and figures.p95_ms is not None else "—"

    @display(description="last checked", ordering="last_checked_at")
    def last_checked(self, target):
        # A heartbeat is never probed: its last check is its last ping.
        heartbeat = getattr(target, "heartbeat", None) if target.kind == Target.Kind.HEARTBEAT else None
        moment = heartbeat.last_ping_at if heartbeat else target.last_checked_at
        if not moment:
            return "never"
        # The last response time rides along: one column fewer keeps the list within 1400 px.
        latency = f" · {target.last_latency_ms} ms" if target.last_latency_ms is not None and not heartbeat else ""
        return f"{naturaltime(moment)}{latency}"

    @display(description="status", ordering="status")
    def status_badge(self, target):
        return format_html('<strong style="color:{}">{}</strong>', STATUS_COLOURS[target.status], target.status)

    @display(description="certificate", ordering="cert_expires_at")
    def cert_days_left(self, target):
        if target.cert_expires_at is None:
            return "—"
        return f"{(target.cert_expires_at - timezone.now()).days} days"

    @display(description="uptime and response time")
    def history_charts(self, target):
        if not target.pk:
            return "—"
        return _once(target, "history", lambda: self._history_charts(target))

    def _history_charts(self, target: Target) -> str:
        now = timezone.now()
        days = target_history(target_id=target.pk, resolution=86400, buckets=90, now=now)
        since = now - timedelta(hours=24)
        bands = target_latency_bands(target_id=target.pk, since=since, now=now, step=timedelta(minutes=15))
        flips = [f for f in self._flips(target) if f.at >= since]
        response = (
            None
            if target.kind == Target.Kind.HEARTBEAT
            else line_chart(
                [
                    Series("p95", [(b.start, b.p95_ms) for b in bands], color="#ea580c", fill_to="p50"),
                    Series("p50", [(b.start, b.p50_ms) for b in bands], color="#2563eb"),
                ],
                unit="ms",
                y_label="Response time",
                empty="No probe answered in the last 24 h.",
                start=floor_time(since, 900),
                end=now,
                markers=[Marker(f.at, f.new_status, STATUS_COLOURS[f.new_status]) for f in flips],
            )
        )
        return render_to_string(
            "admin/monitoring/target/history.html",
            {
                "days": [
                    {
                        "colour": _uptime_colour(d.uptime_pct),
                        "label": f"{d.start:%Y-%m-%d}: "
                        + (f"{d.uptime_pct:.3f} % of {d.probes} probes" if d.uptime_pct is not None else "no data"),
                    }
                    for d in days
                ],
                "legend": UPTIME_LEGEND,
                "response": response,
                "regions": target_regions(target=target, now=now) if target.kind != Target.Kind.HEARTBEAT else [],
            },
        )

    @display(description=f"last {FLIPS_SHOWN} flips")
    def recent_flips(self, target):
        if not target.pk:
            return "—"
        flips = self._flips(target)
        cell = '<td style="padding-right:1rem;white-space:nowrap">'
        rows = format_html_join(
            "",
            f"<tr>{cell}{{}}</td>{cell}{{}} → {{}}</td>{cell}{{}}</td><td>{{}}</td></tr>",
            ((f"{f.at:%Y-%m-%d %H:%M:%S}", f.old_status, f.new_status, f.get_cause_display(), f.reason) for f in flips),
        )
        return format_html("<table>{}</table>", rows) if rows else "none yet"

    def _flips(self, target: Target) -> list:
        # Read once for both the chart's markers and the table.
        return _once(target, "flips", lambda: target_flips(target_id=target.pk, limit=FLIPS_SHOWN))

    def get_inline_instances(self, request, obj=None):
        # The schedule belongs to heartbeats only; a new target may still become one, until it
        # is posted as another kind: then its hidden schedule is neither checked nor saved.
        kind = obj.kind if obj is not None else request.POST.get("kind", Target.Kind.HEARTBEAT)
        if kind != Target.Kind.HEARTBEAT:
            return []
        return super().get_inline_instances(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        target = form.instance
        if target.kind == Target.Kind.HEARTBEAT and not Heartbeat.objects.filter(target=target).exists():
            Heartbeat.objects.create(target=target)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="monitoring_target_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "import_url": reverse("admin:monitoring_target_import")}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload a JSON or YAML file of targets; every error is listed and nothing is changed."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = TargetImportForm(request.POST or None, request.FILES or None)
        errors = {}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            fmt = "json" if upload.name.endswith(".json") else "yaml"
            try:
                report = targets_import(items=config_parse(upload.read().decode(errors="replace"), fmt=fmt))
            except TargetImportError as exc:
                errors = exc.fields
            else:
                messages.success(request, f"{report.created} created, {report.updated} updated")
                return redirect("admin:monitoring_target_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import targets",
            "form": form,
            "errors": errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/monitoring/target_import.html", context)

    def _export(self, queryset, fmt: str) -> HttpResponse:
        document = targets_export(target_ids=list(queryset.values_list("pk", flat=True)))
        response = HttpResponse(config_dump(document, fmt=fmt), content_type=f"application/{fmt}")
        response["Content-Disposition"] = f'attachment; filename="targets.{fmt}"'
        return response

    @action(description="Export selected as YAML")
    def export_yaml(self, request, queryset):
        return self._export(queryset, "yaml")

    @action(description="Export selected as JSON")
    def export_json(self, request, queryset):
        return self._export(queryset, "json")

    @action(description="Pause selected targets")
    def pause(self, request, queryset):
        count = targets_pause(
            target_ids=queryset.values_list("pk", flat=True), at=timezone.now(), by=request.user.get_username()
        )
        messages.success(request, f"Paused {count} target(s).")

    @action(description="Resume selected targets")
    def resume(self, request, queryset):
        count = targets_resume(
            target_ids=queryset.values_list("pk", flat=True), at=timezone.now(), by=request.user.get_username()
        )
        messages.success(request, f"Resumed {count} target(s).")

    @action(description="Check now")
    def check_now(self, request, queryset):
        count = targets_check_now(target_ids=queryset.values_list("pk", flat=True), at=timezone.now())
        messages.success(request, f"{count} target(s) will be probed within seconds.")
