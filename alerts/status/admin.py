"""Status pages in the admin: a page with its groups and components, and public incidents with
their updates. Saves go through services so the public copy is invalidated at once."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from alerts.incidents.models import Incident
from alerts.status.models import (
    DERIVED_FIELDS,
    KIND_FIELDS,
    OPTIONAL_FIELDS,
    Component,
    ComponentGroup,
    IncidentStatus,
    PublicIncident,
    PublicIncidentUpdate,
    StatusPage,
    Subscriber,
    SubscriberNotice,
)
from alerts.status.selectors import forget_domains
from alerts.status.services import incident_status_sync, status_page_touch
from alerts.status.subscribers import update_announce


class ComponentGroupInline(TabularInline):
    model = ComponentGroup
    extra = 0
    fields = ("name", "position")


class NotThisKind(forms.HiddenInput):
    """A field the row's kind does not use: a dash in its cell (a plain hidden input would
    drop the cell and shift the table's columns under the wrong headers)."""

    is_hidden = False

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '{}<span class="text-base-400" title="Not used by this kind">—</span>',
            super().render(name, value, attrs, renderer),
        )


class ComponentForm(forms.ModelForm):
    """A component's row shows only its kind's fields (the others are a dash in their cell);
    a new row shows them all until its kind is chosen and saved. Fields
    of another kind are cleared on save, so switching a row's kind needs no emptying by hand,
    and what is missing is said on the field itself by the model's check."""

    class Meta:
        model = Component
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self._chosen_kind()
        if kind is None:
            return
        wanted = (*KIND_FIELDS[kind], *OPTIONAL_FIELDS[kind], *(("window_minutes",) if kind != "target" else ()))
        for name in (*DERIVED_FIELDS, "window_minutes"):
            if name in self.fields and name not in wanted:
                self.fields[name].widget = NotThisKind()

    def _chosen_kind(self) -> str | None:
        if self.is_bound:
            kind = self.data.get(self.add_prefix("kind"))
        else:
            kind = self.instance.kind if self.instance.pk else None
        return kind if kind in KIND_FIELDS else None

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in KIND_FIELDS:
            for name in DERIVED_FIELDS:
                if name not in KIND_FIELDS[kind] and name not in OPTIONAL_FIELDS[kind] and name in cleaned:
                    cleaned[name] = None if name in ("target", "project", "threshold", "outage_threshold") else ""
        return cleaned


class ComponentInline(TabularInline):
    model = Component
    form = ComponentForm
    extra = 0
    fields = (
        "name",
        "kind",
        "target",
        "project",
        "transaction",
        "vital",
        "route",
        "threshold",
        "outage_threshold",
        "window_minutes",
        "group",
        "position",
        "status_override",
        "override_note",
    )
    autocomplete_fields = ("target", "project")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the groups of the page being edited, not every page's.
        if db_field.name == "group":
            page_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                ComponentGroup.objects.filter(page_id=page_id) if page_id else ComponentGroup.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StatusPage)
class StatusPageAdmin(ModelAdmin):
    list_display = ("title", "public_link", "custom_domain", "exclude_maintenance")
    search_fields = ("title", "slug", "custom_domain")
    prepopulated_fields = {"slug": ("title",)}
    fields = ("title", "slug", "description", "logo", "logo_url", "custom_domain", "exclude_maintenance", "embed")
    readonly_fields = ("embed",)
    inlines = (ComponentGroupInline, ComponentInline)

    @display(description="embed on another site")
    def embed(self, page):
        if page.pk is None:
            return "Save the page first."
        url = settings.SITE_URL.rstrip("/") + reverse("status:widget", args=[page.slug])
        snippet = f'<iframe src="{url}" title="{page.title} status" width="260" height="32" style="border:0"></iframe>'
        return format_html("<code>{}</code>", snippet)

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @display(description="public page")
    def public_link(self, page):
        url = reverse("status:page", args=[page.slug])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        status_page_touch(page_id=form.instance.pk)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_domains()  # its custom domain must stop answering

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        forget_domains()


class PublicIncidentForm(forms.ModelForm):
    class Meta:
        model = PublicIncident
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        page, components = cleaned.get("page"), cleaned.get("components")
        if page is not None and components is not None:
            strangers = [c.name for c in components if c.page_id != page.pk]
            if strangers:
                self.add_error("components", f"Not on this status page: {', '.join(strangers)}.")
        return cleaned


class PublicIncidentUpdateInline(TabularInline):
    model = PublicIncidentUpdate
    extra = 1
    fields = ("status", "body", "created_at")


@admin.register(PublicIncident)
class PublicIncidentAdmin(ModelAdmin):
    list_display = ("name", "page", "status", "impact", "started_at", "resolved_at")
    list_filter = ("page", "status", "impact")
    list_select_related = ("page",)
    search_fields = ("name",)
    fields = ("page", "name", "impact", "started_at", "components", "internal_incident", "status", "resolved_at")
    readonly_fields = ("status", "resolved_at")
    raw_id_fields = ("internal_incident",)
    filter_horizontal = ("components",)
    inlines = (PublicIncidentUpdateInline,)
    form = PublicIncidentForm

    def get_urls(self):
        draft = path(
            "draft/<int:incident_id>/",
            self.admin_site.admin_view(self.draft_view),
            name="alerts_publicincident_draft",
        )
        return [draft, *super().get_urls()]

    def draft_view(self, request, incident_id):
        """From the internal incident's page: its public incident if it has one (to post an
        update), else a new one drafted from its title and linked to it."""
        incident = get_object_or_404(Incident, pk=incident_id)
        public = incident.public_incidents.order_by("-started_at", "-pk").first()
        if public is not None:
            return redirect("admin:alerts_publicincident_change", public.pk)
        return redirect(f"{reverse('admin:alerts_publicincident_add')}?internal_incident={incident.pk}")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        incident = self._drafted_from(request)
        if incident is not None:
            # Only the title travels: the public text is written by a person, never the timeline.
            initial.setdefault("name", incident.title)
            pages = list(StatusPage.objects.values_list("pk", flat=True)[:2])
            if len(pages) == 1:  # the usual case: one page, nothing to choose
                initial.setdefault("page", pages[0])
        return initial

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        incident = self._drafted_from(request) if obj is None or obj.pk is None else None
        if incident is not None and isinstance(inline, PublicIncidentUpdateInline) and request.method == "GET":
            body = f"We are investigating: {incident.title}."
            kwargs["initial"] = [{"status": IncidentStatus.INVESTIGATING, "body": body}]
        return kwargs

    @staticmethod
    def _drafted_from(request):
        value = request.GET.get("internal_incident", "")
        return Incident.objects.filter(pk=value).only("pk", "title").first() if value.isdigit() else None

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # An existing incident offers only its own page's components.
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if db_field.name == "components" and object_id:
            kwargs["queryset"] = Component.objects.filter(page__incidents=object_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        incident_status_sync(incident=form.instance)
        status_page_touch(page_id=form.instance.page_id)
        # Updates written here are told to subscribers as the service's are; edits are not news.
        for formset in formsets:
            if formset.model is PublicIncidentUpdate:
                for update in formset.new_objects:
                    update_announce(update=update, now=timezone.now())

    def delete_model(self, request, obj):
        page_id = obj.page_id
        super().delete_model(request, obj)
        status_page_touch(page_id=page_id)


class SubscriberNoticeInline(TabularInline):
    model = SubscriberNotice
    extra = 0
    fields = ("topic", "status", "attempts", "created_at", "delivered_at", "last_error")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(ModelAdmin):
    """Who subscribes and what each was told. People sign up and leave by their own links."""

    list_display = ("address", "page", "kind", "confirmed_at", "created_at")
    list_filter = ("page", "kind")
    list_select_related = ("page",)
    search_fields = ("address",)
    fields = ("page", "kind", "address", "confirmed_at", "created_at")
    readonly_fields = fields
    inlines = (SubscriberNoticeInline,)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
