"""Incidents, silences and maintenance windows over REST, as the admin works them.

Incidents change only through the incident services (acknowledge, snooze, resolve, comment), so the
timeline, escalation and notification clocks move exactly as from the admin or an on-call
page. Silences and maintenance windows are written through the admin's forms (alerts.api_forms):
one set of rules, whichever door the change comes in by.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api_forms import form_save
from alerts.incidents.forms import SCOPES, MaintenanceWindowForm, SilenceForm
from alerts.incidents.matchers import NAME as LABEL_NAME
from alerts.incidents.selectors import incidents_list
from alerts.incidents.services.incidents import (
    incident_acknowledge,
    incident_comment,
    incident_resolve,
    incident_snooze,
)
from alerts.incidents.severity import Severity
from alerts.models import Incident, IncidentAlert, IncidentEvent, MaintenanceWindow, Silence
from monitoring.common.strict import PAGINATION, StrictFieldsSerializer, StrictQueryParameters
from monitoring.projects.api.pagination import StrictCursorPagination
from monitoring.projects.api.scoping import check_project, project_scoped, token_projects

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

# --- incidents ----------------------------------------------------------------------------


class IncidentPagination(StrictCursorPagination):
    """Newest first, stable under inserts: an incident opened while a client pages does not
    shift the next page."""

    ordering = ("-opened_at", "-id")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A whole number a database id can be: a larger one would overflow the column, a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1, max_value=2**63 - 1, **kwargs)


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    # An id, as the targets' filter takes it: a project that does not exist has no incidents.
    project = IdFilter(field_name="project_id", help_text="Only this project's incidents (its id).")

    class Meta:
        model = Incident
        fields = ["status", "severity", "project"]


class IncidentSerializer(serializers.ModelSerializer):
    # Plain text, as the targets' status: another "status" enum holds the schema's name for it.
    status = serializers.CharField(read_only=True, help_text="triggered, acknowledged or resolved")
    # Null until someone acknowledges or resolves it, or after that user is deleted.
    acknowledged_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    resolved_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "status",
            "severity",
            "source",
            "project",
            "rule",
            "labels",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "snoozed_until",
            "reopened_count",
        ]
        read_only_fields = fields


class IncidentAlertSerializer(serializers.ModelSerializer):
    # Plain text: "status" already names the incident's own choices in the schema.
    status = serializers.CharField(help_text="firing or resolved")

    class Meta:
        model = IncidentAlert
        fields = ["fingerprint", "labels", "summary", "severity", "value", "status", "starts_at", "ends_at"]


class IncidentEventSerializer(serializers.ModelSerializer):
    actor: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentEvent
        fields = ["at", "kind", "actor", "message"]


class IncidentDetailSerializer(IncidentSerializer):
    alerts = IncidentAlertSerializer(many=True, read_only=True)
    events = IncidentEventSerializer(many=True, read_only=True, help_text="The timeline, oldest first.")

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "alerts", "events"]


class ResolveSerializer(StrictFieldsSerializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# A snooze quiets one incident for minutes to days; anything longer is a silence or a fix.
# Given as a length, not a time, so the schema can say what is allowed.
SNOOZE_LONGEST_MINUTES = 30 * 24 * 60


class SnoozeSerializer(StrictFieldsSerializer):
    minutes = serializers.IntegerField(
        min_value=1,
        max_value=SNOOZE_LONGEST_MINUTES,
        help_text="How long the incident stays quiet (at most 30 days); then it triggers and notifies "
        "again if still open.",
    )


class CommentSerializer(StrictFieldsSerializer):
    message = serializers.CharField(
        min_length=1, max_length=10000, help_text="The comment's text; it goes on the timeline."
    )


def _actor(request: Request) -> "User":
    # TokenScope let only an authenticated, active user this far.
    return cast("User", request.user)


def _refused(exc: DjangoValidationError, *, field: str) -> serializers.ValidationError:
    """A service's refusal, keyed by the field it names (or `field` when it names none)."""
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({field: exc.messages})


@extend_schema_view(
    list=extend_schema(summary="Incidents, newest first"),
    retrieve=extend_schema(summary="An incident with its alerts and timeline"),
)
class IncidentViewSet(StrictQueryParameters, viewsets.ReadOnlyModelViewSet):
    """Incidents: list and filter, read one with its timeline, acknowledge, snooze, resolve, comment."""

    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    parser_classes = [JSONParser]
    pagination_class = IncidentPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilter
    query_parameters = {"list": ("status", "severity", "project", "cursor", "page_size")}
    # A limited token sees and works its projects' incidents, never those of no project.
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[Incident]:
        incidents = project_scoped(incidents_list(), self.request)
        if self.action != "list":
            incidents = incidents.prefetch_related(
                "alerts", Prefetch("events", queryset=IncidentEvent.objects.select_related("actor"))
            )
        return incidents

    def get_serializer_class(self):
        return IncidentSerializer if self.action == "list" else IncidentDetailSerializer

    def _answer(self, incident: Incident) -> Response:
        return Response(IncidentDetailSerializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Stops escalation; the incident stays open until resolved. Acknowledging twice is a no-op."""
        try:
            incident = incident_acknowledge(incident=self.get_object(), actor=_actor(request), now=timezone.now())
        except DjangoValidationError as exc:
            raise _refused(exc, field="status") from exc
        return self._answer(incident)

    @extend_schema(request=ResolveSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolving twice is a no-op; `message` goes on the timeline."""
        incident = self.get_object()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incident = incident_resolve(
            incident=incident, actor=_actor(request), now=timezone.now(), message=body.validated_data["message"]
        )
        return self._answer(incident)

    @extend_schema(request=SnoozeSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledged for `minutes`, with escalation stopped; then triggered and notified
        again if still open. A resolved incident cannot be snoozed."""
        incident = self.get_object()
        body = SnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        until = now + timedelta(minutes=body.validated_data["minutes"])
        try:
            incident = incident_snooze(incident=incident, actor=_actor(request), until=until, now=now)
        except DjangoValidationError as exc:
            raise _refused(exc, field="status") from exc
        return self._answer(incident)

    @extend_schema(request=CommentSerializer, responses={201: IncidentEventSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            event = incident_comment(
                incident=incident, actor=_actor(request), message=body.validated_data["message"], now=timezone.now()
            )
        except DjangoValidationError as exc:
            raise _refused(exc, field="message") from exc
        return Response(IncidentEventSerializer(event).data, status=status.HTTP_201_CREATED)


# --- silences and maintenance windows -----------------------------------------------------


class FormWrittenViewSet(StrictQueryParameters, viewsets.ModelViewSet):
    """A configuration object written through its admin form; the serializer checks types."""

    parser_classes = [JSONParser]
    query_parameters = {"list": PAGINATION}
    form_class: type

    def form_kwargs(self) -> dict[str, Any]:
        return {}

    def stamp(self) -> dict[str, Any]:
        return {}

    def perform_create(self, serializer: "serializers.BaseSerializer[Any]") -> None:
        serializer.instance = form_save(
            self.form_class, values=serializer.validated_data, stamp=self.stamp(), **self.form_kwargs()
        )

    def perform_update(self, serializer: "serializers.BaseSerializer[Any]") -> None:
        serializer.instance = form_save(
            self.form_class,
            values=serializer.validated_data,
            instance=serializer.instance,
            **self.form_kwargs(),
        )


class MatcherSerializer(serializers.Serializer):
    # The pattern the matchers parser holds a label name to, so the schema states it.
    name = serializers.RegexField(LABEL_NAME.pattern, max_length=200)
    op = serializers.ChoiceField(choices=["=", "!=", "=~", "!~"], default="=")
    value = serializers.CharField(allow_blank=True, max_length=1000)


class SilenceSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    matchers = serializers.ListField(
        child=MatcherSerializer(), min_length=1, help_text="All must hold for an alert to be muted."
    )
    # Null once its author's account is deleted.
    created_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Silence
        fields = ["id", "matchers", "starts_at", "ends_at", "comment", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
        extra_kwargs = {"comment": {"help_text": "Why the silence is there.", "min_length": 1}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "matchers" in attrs:
            attrs["matchers"] = [dict(m) for m in attrs["matchers"]]
        return attrs


class SilenceViewSet(FormWrittenViewSet):
    """Silences: label matchers that mute matching alerts between two times. Always ending.

    Matchers may mute any project's alerts, so a project-limited token is refused here."""

    queryset = Silence.objects.select_related("created_by").order_by("-starts_at", "-id")
    serializer_class = SilenceSerializer
    form_class = SilenceForm

    def form_kwargs(self) -> dict[str, Any]:
        return {"user": self.request.user}

    def stamp(self) -> dict[str, Any]:
        return {"created_by": self.request.user}


class ScopeField(serializers.ChoiceField):
    """Read from which of the three fields is set: the model stores that, not the choice itself.
    Read and written, so the schema documents it in answers as well as in requests."""

    def get_attribute(self, instance: MaintenanceWindow) -> str | None:
        return next((name for name in SCOPES if getattr(instance, f"{name}_id")), None)


class MaintenanceWindowSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    scope = ScopeField(
        choices=list(SCOPES),
        help_text="What the window covers (target, tag or project); the field of that name says which one.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["id", *MaintenanceWindowForm.Meta.fields]  # the admin form's, scope among them
        read_only_fields = ["id"]
        # min_length: the schema says what "may not be blank" refuses.
        extra_kwargs: dict[str, dict[str, Any]] = {
            **{name: {"validators": []} for name in ("project", "target", "tag")},
            **{name: {"min_length": 1} for name in ("name", "time_zone")},
            # What a PostgreSQL integer column holds, stated on SQLite too (whose range is wider).
            "duration_minutes": {"max_value": 2**31 - 1},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A limited token writes windows over its projects or their targets only: a tag spans
        projects, so a window over one is refused (naming `tag`)."""
        request = self.context["request"]
        if token_projects(request) is None:
            return attrs
        window = self.instance
        scope = attrs.get("scope") or next((name for name in SCOPES if getattr(window, f"{name}_id", None)), None)
        chosen = attrs.get(scope, getattr(window, scope, None)) if scope else None
        if scope == "project":
            check_project(request, chosen)
        elif scope == "target":
            check_project(request, chosen.project_id if chosen else None, field="target")
        elif scope == "tag":
            check_project(request, None, field="tag")
        return attrs


class MaintenanceWindowViewSet(FormWrittenViewSet):
    """Maintenance windows (one-off, cron or RRULE) over a project, a target or a tag."""

    queryset = MaintenanceWindow.objects.order_by("starts_at", "name", "id")
    serializer_class = MaintenanceWindowSerializer
    form_class = MaintenanceWindowForm
    # A limited token sees windows over its projects and their targets; tag windows span projects.
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[MaintenanceWindow]:
        windows = super().get_queryset()
        return project_scoped(windows, self.request) | project_scoped(windows, self.request, field="target__project")

    def stamp(self) -> dict[str, Any]:
        return {"created_by": self.request.user}
