"""Backups in the admin: plans (with their variables' presence, a connection test and buttons
to back up or verify now), runs (progress while running, verified badge, download for
superusers, written to the audit log), verification receipts and the download log."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from backups.errors import BackupError
from backups.formatting import human_bytes
from backups.models import DownloadLog, Plan, Run, Source, Status, StorageKind, Verification
from backups.selectors import runs_for_chart
from backups.services.plans import plan_schedule
from backups.services.runs import plan_test_connection, run_delete
from backups.storage import storage_for
from monitoring.common.charts import Series, line_chart

GOOD, BAD, NEUTRAL, BUSY = "#15803d", "#b91c1c", "#6b7280", "#1d4ed8"
# The plan's fields that belong to one source or one storage; the form shows the chosen one's.
SOURCE_FIELDS = {Source.PORTAL: (), Source.POSTGRES: ("source_env",), Source.SQLITE: ("sqlite_path",)}
STORAGE_FIELDS = {
    StorageKind.LOCAL: ("storage_path",),
    StorageKind.S3: (
        "storage_bucket",
        "storage_path",
        "storage_endpoint_url",
        "storage_region",
        "storage_access_key_env",
        "storage_secret_key_env",
    ),
    StorageKind.SFTP: ("storage_url_env", "storage_path"),
}
STATUS_COLOURS = {Status.SUCCEEDED: GOOD, Status.FAILED: BAD, Status.RUNNING: BUSY}
CHART_RUNS = 90


def _badge(colour: str, text: str):
    return format_html('<strong style="color:{}">{}</strong>', colour, text)


def _enqueue(task, *args) -> None:
    # After the request's transaction, so a worker never reads a plan older than the page showed.
    transaction.on_commit(lambda: task.apply_async(args=list(args), queue="backups"))


@admin.register(Plan)
class PlanAdmin(ModelAdmin):
    list_display = (
        "name",
        "source",
        "kinds_display",
        "schedule",
        "storage",
        "variables",
        "last_run",
        "next_run_at",
        "enabled",
    )
    list_filter = ("enabled", "source", "storage")
    search_fields = ("name",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["back_up_selected", "verify_selected"]
    # Test connection, back up now, verify now: POST forms above the change form (not
    # actions_detail, whose buttons are GET links).
    change_form_outer_before_template = "admin/backups/plan/buttons.html"
    readonly_fields = ("variables", "next_run_at", "next_verify_at", "history_chart")
    change_form_after_template = "admin/backups/plan/kind_switch.html"

    def get_fieldsets(self, request, obj=None):
        """Only the chosen source's and storage's fields: the form validates, saves and shows
        errors on exactly those. The choice comes from what was posted, then from the query
        (the page reloads with it when the select changes), then from the plan."""
        source, storage = self._chosen(request, obj)
        return (
            (None, {"fields": ("name", "enabled")}),
            ("Source", {"fields": ("source", *SOURCE_FIELDS[source], "kind_database", "kind_export", "kind_config")}),
            ("Schedule", {"fields": ("cron", "time_zone", "verify_cron", "next_run_at", "next_verify_at")}),
            ("Storage", {"fields": ("storage", *STORAGE_FIELDS[storage])}),
            ("Encryption", {"fields": ("recipients",)}),
            ("Retention", {"fields": ("retention_days", "keep_daily", "keep_weekly", "keep_monthly")}),
            ("Environment variables", {"fields": ("variables",)}),
            ("History", {"fields": ("history_chart",)}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        source, storage = self._chosen(request, obj)

        reloaded = request.method == "GET" and "storage" in request.GET

        class PlanForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if self.is_bound:
                    return
                if reloaded:  # what was typed before the select changed (kind_switch.html) stays typed
                    for name, field in self.fields.items():
                        if isinstance(field, forms.BooleanField):
                            self.initial[name] = name in request.GET
                        elif name in request.GET:
                            self.initial[name] = request.GET[name]
                # The selects show the choice the fields were picked for.
                self.initial.update(source=source, storage=storage)

        return PlanForm

    @staticmethod
    def _chosen(request, obj) -> tuple[str, str]:
        def pick(name: str, choices: dict, default: str) -> str:
            for value in (request.POST.get(name), request.GET.get(name), getattr(obj, name, None)):
                if value in choices:
                    return str(value)
            return default

        return pick("source", SOURCE_FIELDS, Source.PORTAL), pick("storage", STORAGE_FIELDS, StorageKind.LOCAL)

    @display(description="kinds")
    def kinds_display(self, plan):
        return ", ".join(plan.kinds()) or "—"

    @display(description="schedule")
    def schedule(self, plan):
        return f"{plan.cron} ({plan.time_zone})"

    @display(description="variables")
    def variables(self, plan):
        """Each variable the plan names, set or not: never its value."""
        presence = plan.env_presence() if plan.pk or plan.source else {}
        if not presence:
            return "none needed"
        return format_html_join(
            ", ",
            "<code>{}</code> {}",
            ((name, _badge(GOOD, "present") if ok else _badge(BAD, "missing")) for name, ok in presence.items()),
        )

    @display(description="last run")
    def last_run(self, plan):
        run = plan.runs.order_by("-started_at").first()
        if run is None:
            return "never"
        return _badge(STATUS_COLOURS[run.status], f"{run.status} {timezone.localtime(run.started_at):%Y-%m-%d %H:%M}")

    @display(description="size and duration of successful runs")
    def history_chart(self, plan):
        if not plan.pk:
            return "—"
        runs = runs_for_chart(plan, limit=CHART_RUNS)
        series_by_kind = {}
        for run in runs:
            series_by_kind.setdefault(run.kind, []).append(run)
        size = line_chart(
            [
                Series(kind, [(r.finished_at, r.stored_bytes / 1_048_576) for r in rs])
                for kind, rs in series_by_kind.items()
            ],
            unit="MB",
            y_label="Stored size",
            empty="No successful backup yet: nothing to draw.",
            title="Stored size",
        )
        duration = line_chart(
            [Series(kind, [(r.finished_at, r.duration_seconds) for r in rs]) for kind, rs in series_by_kind.items()],
            unit="s",
            y_label="Duration",
            empty="No successful backup yet: nothing to draw.",
            title="Duration",
        )
        return render_to_string("admin/backups/plan/history.html", {"size": size, "duration": duration})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        plan_schedule(plan=obj, now=timezone.now())

    def _back_to(self, object_id):
        return redirect(reverse("admin:backups_plan_change", args=[object_id]))

    def get_urls(self):
        # The page's buttons act, so they answer POST only (require_POST: a GET is 405) behind the
        # admin's CSRF check: a link or an <img> pointing here starts nothing.
        def button(view, url_path: str, name: str):
            return path(f"<int:object_id>/{url_path}/", self.admin_site.admin_view(require_POST(view)), name=name)

        return [
            button(self.test_connection, "test-connection", "backups_plan_test_connection"),
            button(self.back_up_now, "back-up-now", "backups_plan_back_up_now"),
            button(self.verify_now, "verify-now", "backups_plan_verify_now"),
            *super().get_urls(),
        ]

    def _plan_to_change(self, request, object_id) -> Plan:
        plan = get_object_or_404(Plan, pk=object_id)
        if not self.has_change_permission(request, plan):
            raise PermissionDenied
        return plan

    def test_connection(self, request, object_id):
        plan = self._plan_to_change(request, object_id)
        try:
            answers = plan_test_connection(plan=plan)
        except BackupError as exc:
            messages.error(request, f"{plan.name}: {exc}")
        else:
            messages.success(request, f"{plan.name}: " + "; ".join(answers))
        return self._back_to(object_id)

    def back_up_now(self, request, object_id):
        from backups.tasks import run_plan

        plan = self._plan_to_change(request, object_id)
        _enqueue(run_plan, plan.pk, None, "manual")
        messages.success(request, f"A backup of {plan.name} is queued; its run appears under Runs when it starts.")
        return self._back_to(object_id)

    def verify_now(self, request, object_id):
        from backups.tasks import verify_newest

        plan = self._plan_to_change(request, object_id)
        _enqueue(verify_newest, plan.pk)
        messages.success(request, f"Verification of {plan.name}'s newest backups is queued; see Verifications.")
        return self._back_to(object_id)

    @action(description="Back up selected plans now", permissions=["change"])
    def back_up_selected(self, request, queryset):
        from backups.tasks import run_plan

        for plan in queryset:
            _enqueue(run_plan, plan.pk, None, "manual")
        messages.success(request, f"Queued {queryset.count()} backup(s).")

    @action(description="Verify selected plans' newest backups now", permissions=["change"])
    def verify_selected(self, request, queryset):
        from backups.tasks import verify_newest

        for plan in queryset:
            _enqueue(verify_newest, plan.pk)
        messages.success(request, f"Queued {queryset.count()} verification(s).")


@admin.register(Run)
class RunAdmin(ModelAdmin):
    list_display = ("id", "plan", "kind", "status_badge", "started_at", "duration", "size", "sha256_short", "verified")
    list_filter = ("status", "kind", "plan")
    list_select_related = ("plan",)
    show_full_result_count = False
    list_per_page = 100
    actions_detail = ["download"]
    readonly_fields = [f.name for f in Run._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="status", ordering="status")
    def status_badge(self, run):
        if run.status == Status.RUNNING:
            return _badge(BUSY, f"running · {human_bytes(run.raw_bytes)} read")
        if run.status == Status.FAILED:
            return format_html("{}<br><small>{}</small>", _badge(BAD, "failed"), run.error[:160])
        return _badge(GOOD, "succeeded")

    @display(description="duration", ordering="duration_seconds")
    def duration(self, run):
        if run.duration_seconds is None:
            return "—"
        minutes, seconds = divmod(round(run.duration_seconds), 60)
        return f"{minutes} min {seconds} s" if minutes else f"{run.duration_seconds:.1f} s"

    @display(description="size", ordering="stored_bytes")
    def size(self, run):
        return human_bytes(run.stored_bytes) if run.status == Status.SUCCEEDED else "—"

    @display(description="sha256")
    def sha256_short(self, run):
        return format_html('<code title="{}">{}…</code>', run.sha256, run.sha256[:12]) if run.sha256 else "—"

    @display(description="verified")
    def verified(self, run):
        if run.is_verified:
            return _badge(GOOD, f"verified {timezone.localtime(run.verified_at):%Y-%m-%d}")
        if run.verification_failed_at:
            return _badge(BAD, "verification failed")
        return _badge(NEUTRAL, "not yet") if run.status == Status.SUCCEEDED else "—"

    def delete_model(self, request, obj):
        run_delete(run=obj)

    def delete_queryset(self, request, queryset):
        for run in queryset:
            run_delete(run=run)

    def get_urls(self):
        return [
            path("<int:run_id>/download/", self.admin_site.admin_view(self.download_view), name="backups_run_fetch"),
            *super().get_urls(),
        ]

    @action(description="Download (superusers)", url_path="download-link", icon="download")
    def download(self, request, object_id):
        return redirect(reverse("admin:backups_run_fetch", args=[object_id]))

    def download_view(self, request, run_id: int):
        """The encrypted object as stored; only superusers, and every download is logged."""
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers may download backups.")
        run = get_object_or_404(Run, pk=run_id)
        if run.status != Status.SUCCEEDED:
            raise Http404("Only a succeeded run has a backup to download.")
        try:
            stream = storage_for(run.plan, run.storage).open_download(run.storage_key)
        except BackupError as exc:
            raise Http404(str(exc)) from exc
        DownloadLog.objects.create(
            run=run,
            run_label=str(run),
            storage_key=run.storage_key,
            user=request.user,
            username=request.user.get_username(),
            address=request.META.get("REMOTE_ADDR"),
        )
        return FileResponse(stream, as_attachment=True, filename=run.storage_key.rsplit("/", 1)[-1])


@admin.register(Verification)
class VerificationAdmin(ModelAdmin):
    list_display = ("run_label", "purpose", "status_badge", "restore_time", "started_at")
    list_filter = ("purpose", "status", "plan")
    list_select_related = ("plan",)
    readonly_fields = [f.name for f in Verification._meta.fields if f.name != "steps"] + ["receipt"]
    exclude = ("steps",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="status", ordering="status")
    def status_badge(self, verification):
        if verification.status == Status.FAILED:
            return format_html("{}<br><small>{}</small>", _badge(BAD, "failed"), verification.error[:160])
        return _badge(STATUS_COLOURS[verification.status], verification.status)

    @display(description="recovery time", ordering="restore_seconds")
    def restore_time(self, verification):
        return f"{verification.restore_seconds:.1f} s" if verification.restore_seconds is not None else "—"

    @display(description="receipt")
    def receipt(self, verification):
        rows = format_html_join(
            "",
            '<tr><td style="padding-right:1rem">{}</td><td style="padding-right:1rem">{}</td><td>{}</td></tr>',
            (
                (_badge(GOOD, "ok") if s["ok"] else _badge(BAD, "failed"), s["name"], s["detail"])
                for s in verification.steps
            ),
        )
        return format_html("<table>{}</table>", rows) if rows else "—"


@admin.register(DownloadLog)
class DownloadLogAdmin(ModelAdmin):
    list_display = ("at", "username", "run_label", "address")
    readonly_fields = [f.name for f in DownloadLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
