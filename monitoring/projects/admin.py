from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from monitoring.models import ApiToken, Environment, IngestKey, Project
from monitoring.projects.services.api_tokens import api_token_create, api_token_revoke
from monitoring.projects.services.ingest_keys import ingest_key_create, ingest_key_revoke
from monitoring.projects.services.projects import projects_delete


def copyable(value: str | None):
    if not value:
        return "—"
    return render_to_string("admin/monitoring/copyable.html", {"value": value})


class EnvironmentInline(TabularInline):
    model = Environment
    extra = 0


class IngestKeyInline(TabularInline):
    model = IngestKey
    extra = 0
    fields = ("label", "dsn_display", "has_secret", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("dsn_display", "has_secret", "created_at", "last_used_at", "revoked_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # keys are made by the "New ingest key" action, which shows the secret once

    @display(description="DSN")
    def dsn_display(self, key):
        return copyable(key.dsn) if key.pk else "—"

    @display(description="secret", boolean=True)
    def has_secret(self, key):
        return key.has_secret


@admin.register(Project)
class ProjectAdmin(ModelAdmin):
    list_display = ("name", "slug", "dsn_display", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [EnvironmentInline, IngestKeyInline]
    actions = ["new_ingest_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("ingest_keys")

    @display(description="DSN")
    def dsn_display(self, project):
        return copyable(project.dsn)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            ingest_key_create(project=obj)

    def delete_model(self, request, obj):
        projects_delete(projects=Project.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        projects_delete(projects=queryset)

    @action(description="Add an ingest key to the selected projects")
    def new_ingest_key(self, request, queryset):
        # A list action is a CSRF-protected POST: creating credentials never happens on a GET.
        for project in queryset:
            created = ingest_key_create(project=project, label=f"Key {project.ingest_keys.count() + 1}")
            messages.success(request, format_html("{}: new key, DSN <code>{}</code>", project, created.key.dsn))


@admin.register(IngestKey)
class IngestKeyAdmin(ModelAdmin):
    list_display = ("label", "project", "public_key", "has_secret", "created_at", "last_used_at", "revoked_at")
    list_filter = ("project",)
    list_select_related = ("project",)
    readonly_fields = ("project", "public_key", "dsn_display", "created_at", "last_used_at", "revoked_at")
    fields = ("project", "label", "public_key", "dsn_display", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @display(description="DSN")
    def dsn_display(self, key):
        return copyable(key.dsn)

    @display(description="secret", boolean=True)
    def has_secret(self, key):
        return key.has_secret

    @action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at=None):
            ingest_key_revoke(key=key)
        messages.success(request, "Revoked. Clients using these keys now get 401.")


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "scope", "projects", "expires_at")
        widgets = {"projects": UnfoldAdminCheckboxSelectMultipleWidget}


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    form = ApiTokenForm
    list_display = (
        "prefix",
        "user",
        "name",
        "scope",
        "projects_display",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("scope",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("projects")

    @display(description="projects")
    def projects_display(self, token):
        return ", ".join(p.name for p in token.projects.all()) or "every project"

    def has_change_permission(self, request, obj=None):
        return False  # a token is revoked and replaced, never edited

    def save_model(self, request, obj, form, change):
        created = api_token_create(
            user=form.cleaned_data["user"],
            scope=form.cleaned_data["scope"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            projects=form.cleaned_data["projects"],
        )
        # The admin's own messages and redirect describe `obj`; make it the saved token.
        obj.pk, obj.prefix, obj.scope = created.token.pk, created.token.prefix, created.token.scope
        messages.warning(
            request,
            format_html("Copy the token now, it is not shown again: <code>{}</code>", created.secret),
        )

    @action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at=None):
            api_token_revoke(token=token)
        messages.success(request, "Revoked.")
