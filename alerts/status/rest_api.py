"""Status pages and their public incidents over the token API.

Writes take the admin's path: a page is saved through a form of the admin's fields and then
touched (status_page_touch), which drops the cached page and, on commit, the custom-domain map;
an incident is opened and updated through the services the admin's draft flow uses, so an
update reaches the page's subscribers exactly as one posted in the admin does. A component's
status is read from the page's snapshot (selectors.page_snapshot), never computed here.

Status pages belong to no project: a project-limited token is refused (TokenScope), as at
channels and silences.
"""

from typing import Any

from django import forms
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api_forms import form_bound, form_save
from alerts.status.admin import PublicIncidentForm
from alerts.status.models import ComponentStatus, IncidentStatus, PublicIncident, PublicIncidentUpdate, StatusPage
from alerts.status.selectors import forget_domains, page_snapshot
from alerts.status.services import public_incident_create, public_incident_update_add, status_page_touch
from monitoring.common.strict import StrictFieldsSerializer, StrictQueryParameters
from monitoring.projects.api.pagination import CURSOR, StrictCursorPagination

BIGINT = 2**63 - 1
PAGE_FIELDS = ("slug", "title", "description", "logo_url", "custom_domain", "exclude_maintenance")


class StatusPageForm(forms.ModelForm):
    """The admin's page fields a token may write (the logo upload stays in the admin)."""

    # As the admin's formfield_overrides: a bare host name means https.
    logo_url = forms.URLField(required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = StatusPage
        fields = PAGE_FIELDS


class StatusComponentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    group_id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=ComponentStatus.choices)
    status_label = serializers.CharField()
    override_note = serializers.CharField(help_text="Why the status was set by hand, when it was.")


class StatusPageSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    class Meta:
        model = StatusPage
        fields = ["id", *PAGE_FIELDS]
        read_only_fields = ["id"]
        # The form checks the slug and the domain are free, in one answer with the rest.
        extra_kwargs: dict[str, dict[str, Any]] = {
            "slug": {"validators": [], "min_length": 1},
            "title": {"min_length": 1},
            "custom_domain": {"validators": []},
        }


class StatusPageDetailSerializer(StatusPageSerializer):
    components = serializers.SerializerMethodField(help_text="Read only: edited in the admin.")

    class Meta(StatusPageSerializer.Meta):
        fields = [*StatusPageSerializer.Meta.fields, "components"]

    @extend_schema_field(StatusComponentSerializer(many=True))
    def get_components(self, page: StatusPage) -> list[dict[str, Any]]:
        rows = page_snapshot(page=page)["components"]
        return [
            {
                "id": int(row["id"]),
                "name": row["name"],
                "group_id": int(row["group_id"]) if row["group_id"] else None,
                "status": row["status"],
                "status_label": row["status_label"],
                "override_note": row["override_note"],
            }
            for row in rows
        ]


class PagePagination(StrictCursorPagination):
    ordering = ("slug",)  # unique: no page is read twice


@extend_schema_view(
    list=extend_schema(summary="Status pages, by slug"),
    retrieve=extend_schema(summary="A status page with its components' current status"),
)
class StatusPageViewSet(StrictQueryParameters, viewsets.ModelViewSet):
    """Public status pages: their text and custom domain. Components are arranged in the admin."""

    queryset = StatusPage.objects.all()
    parser_classes = [JSONParser]
    pagination_class = PagePagination
    query_parameters = {"list": CURSOR}

    def get_serializer_class(self):
        return StatusPageSerializer if self.action == "list" else StatusPageDetailSerializer

    def perform_create(self, serializer: StatusPageSerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=None)

    def perform_update(self, serializer: StatusPageSerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=serializer.instance)

    @transaction.atomic
    def _save(self, values: dict[str, Any], *, instance: StatusPage | None) -> StatusPage:
        page = form_save(StatusPageForm, values=values, instance=instance)
        status_page_touch(page_id=page.pk)
        return StatusPage.objects.get(pk=page.pk)

    def perform_destroy(self, instance: StatusPage) -> None:
        instance.delete()
        forget_domains()  # its custom domain must stop answering, as after the admin's delete


# --- public incidents ------------------------------------------------------------------------


COMPONENTS = serializers.ListField(
    child=serializers.IntegerField(min_value=1, max_value=BIGINT),
    required=False,
    help_text="Ids of this page's components the incident affects.",
)


class PublicIncidentUpdateSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    class Meta:
        model = PublicIncidentUpdate
        fields = ["id", "status", "body", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"body": {"min_length": 1}}


class PublicIncidentSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    components = serializers.SerializerMethodField(help_text="Ids of the page's components it affects.")
    updates = PublicIncidentUpdateSerializer(many=True, read_only=True, help_text="Newest first.")

    class Meta:
        model = PublicIncident
        fields = ["id", "name", "impact", "status", "components", "started_at", "resolved_at", "updates"]
        read_only_fields = ["id", "status", "started_at", "resolved_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"min_length": 1}}

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_components(self, incident: PublicIncident) -> list[int]:
        return sorted(component.pk for component in incident.components.all())  # prefetched


class PublicIncidentChangeSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    components = COMPONENTS

    class Meta:
        model = PublicIncident
        fields = ["name", "impact", "components"]
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"min_length": 1}}


class PublicIncidentOpenSerializer(PublicIncidentChangeSerializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING)
    body = serializers.CharField(min_length=1, help_text="The first update's text, told to subscribers.")

    class Meta(PublicIncidentChangeSerializer.Meta):
        fields = [*PublicIncidentChangeSerializer.Meta.fields, "status", "body"]


class IncidentPagination(StrictCursorPagination):
    ordering = ("-started_at", "-id")  # the page's own order, newest first


@extend_schema_view(
    list=extend_schema(summary="A status page's public incidents, newest first", responses=PublicIncidentSerializer),
    retrieve=extend_schema(summary="A public incident with its updates", responses=PublicIncidentSerializer),
    create=extend_schema(
        summary="Open a public incident with its first update",
        request=PublicIncidentOpenSerializer,
        responses={201: PublicIncidentSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename a public incident, or change its impact or components",
        request=PublicIncidentChangeSerializer,
        responses=PublicIncidentSerializer,
    ),
)
class PublicIncidentViewSet(
    StrictQueryParameters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What the public reads about an incident on one status page; its status is its newest
    update's, so it changes by posting an update."""

    queryset = PublicIncident.objects.all()
    parser_classes = [JSONParser]
    pagination_class = IncidentPagination
    lookup_url_kwarg = "incident_id"
    query_parameters = {"list": CURSOR}

    def get_page(self) -> StatusPage:
        return get_object_or_404(StatusPage, pk=self.kwargs["id"])

    def get_queryset(self):
        return PublicIncident.objects.filter(page=self.get_page()).prefetch_related("components", "updates")

    def get_serializer_class(self):
        if self.action == "create":
            return PublicIncidentOpenSerializer
        if self.action == "partial_update":
            return PublicIncidentChangeSerializer
        return PublicIncidentSerializer

    def _answer(self, incident: PublicIncident, code: int = status.HTTP_200_OK) -> Response:
        return Response(PublicIncidentSerializer(self.get_queryset().get(pk=incident.pk)).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.get_page()
        body = PublicIncidentOpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        first = {"status": values.pop("status"), "body": values.pop("body")}
        # The admin's form says what is wrong (a component of another page), naming the field.
        form = form_bound(PublicIncidentForm, values={**values, "page": page})
        incident = public_incident_create(
            page=page,
            name=form.cleaned_data["name"],
            impact=form.cleaned_data["impact"],
            components=list(form.cleaned_data["components"]),
            **first,
        )
        return self._answer(incident, status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incident = self.get_object()
        body = PublicIncidentChangeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        form_save(PublicIncidentForm, values=body.validated_data, instance=incident)
        status_page_touch(page_id=incident.page_id)
        return self._answer(incident)

    @extend_schema(request=PublicIncidentUpdateSerializer, responses={201: PublicIncidentUpdateSerializer})
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Post an update: the incident takes its status (resolved with it, or reopened) and the
        page's confirmed subscribers are told."""
        incident = self.get_object()
        body = PublicIncidentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        update = public_incident_update_add(incident=incident, **body.validated_data)
        return Response(PublicIncidentUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
