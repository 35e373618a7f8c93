"""Error issues and their events over REST, as the issue stream and the issue page work them.

Reads go through the errors selectors (the stream hides merged issues, an event is found by its
Sentry id); every change goes through the issue services, so the timeline names the token's
user and the counters, snoozes and merges behave exactly as from the admin's buttons.
"""

from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.common.strict import StrictFieldsSerializer, StrictQueryParameters
from monitoring.errors.models import Category, ErrorIssueActivity, ErrorIssueSeenIn, IssueSeverity
from monitoring.errors.selectors import error_issue_activity, error_issue_event, error_issue_stream
from monitoring.errors.services.issues import (
    error_issue_ignore,
    error_issue_merge,
    error_issue_resolve,
    error_issue_unresolve,
)
from monitoring.models import ErrorEvent, ErrorIssue
from monitoring.projects.api.pagination import CURSOR, StrictCursorPagination
from monitoring.projects.api.scoping import project_scoped

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

# The stream never lists merged issues: they live on in the issue they were merged into.
LISTED_STATUSES = [(value, label) for value, label in ErrorIssue.Status.choices if value != ErrorIssue.Status.MERGED]
# As the issue page's "snooze until N events" allows.
MOST_SNOOZE_EVENTS = 1_000_000
# One merge is one transaction over every issue named; the admin merges a page at most.
MOST_MERGED = 100
BIGINT = 2**63 - 1


class IssuePagination(StrictCursorPagination):
    # The stream's order; id breaks ties so no issue is read twice.
    ordering = ("-last_seen", "-id")


class EventPagination(StrictCursorPagination):
    # The order the (issue, -timestamp) index serves: newest first.
    ordering = ("-timestamp", "-id")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT})
class IdFilter(django_filters.NumberFilter):
    """A whole number a database id can be: a larger one would overflow the column, a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1, max_value=BIGINT, **kwargs)


class SeenInFilter(django_filters.CharFilter):
    """Issues with at least one event of this release (or environment), as the stream filters."""

    def __init__(self, dimension: str, **kwargs: Any) -> None:
        self.dimension = dimension
        super().__init__(max_length=250, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        return qs.filter(seen_in__dimension=self.dimension, seen_in__value=value)


class IssueFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", help_text="Only this project's issues (its id).")
    status = django_filters.ChoiceFilter(choices=LISTED_STATUSES)
    level = django_filters.ChoiceFilter(choices=ErrorIssue.Level.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)
    severity = django_filters.ChoiceFilter(choices=IssueSeverity.choices)
    release = SeenInFilter(ErrorIssueSeenIn.Dimension.RELEASE, help_text="Seen in this release.")
    environment = SeenInFilter(ErrorIssueSeenIn.Dimension.ENVIRONMENT, help_text="Seen in this environment.")
    query = django_filters.CharFilter(
        method="search", max_length=200, help_text="Words found in the title or the culprit (the admin's search)."
    )

    class Meta:
        model = ErrorIssue
        fields = ["project", "status", "level", "category", "severity", "release", "environment", "query"]

    def search(self, issues: QuerySet[ErrorIssue], name: str, value: str) -> QuerySet[ErrorIssue]:
        # Each word in either field, as the admin's search_fields = ("title", "culprit") reads it.
        for word in value.split():
            issues = issues.filter(Q(title__icontains=word) | Q(culprit__icontains=word))
        return issues


ISSUE_FILTERS = tuple(IssueFilter.base_filters)


class IssueSerializer(serializers.ModelSerializer):
    # Plain text: "status" already names the incidents' choices in the schema.
    status = serializers.CharField(
        read_only=True, help_text="unresolved, resolved, resolved_next_release, ignored or merged"
    )
    level = serializers.CharField(read_only=True, help_text="debug, info, warning, error or fatal")
    severity = serializers.CharField(read_only=True, help_text="From the classification rules; empty if none matched.")
    category = serializers.CharField(read_only=True, help_text="From the classification rules; empty if none matched.")
    # Null when nobody looks after it, or after that user is deleted.
    assignee: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ErrorIssue
        fields = [
            "id",
            "project",
            "title",
            "culprit",
            "type",
            "level",
            "status",
            "status_changed_at",
            "first_seen",
            "last_seen",
            "event_count",
            "users_affected",
            "is_regression",
            "regressed_at",
            "resolved_in_release",
            "snooze_until",
            "snooze_event_count",
            "merged_into",
            "severity",
            "category",
            "assignee",
        ]
        read_only_fields = fields


class IssueSeenInSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErrorIssueSeenIn
        fields = ["dimension", "value", "first_seen", "last_seen", "event_count"]


class IssueActivitySerializer(serializers.ModelSerializer):
    # Null for an automatic change (a regression, a snooze ending) or a deleted user.
    actor: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ErrorIssueActivity
        fields = ["at", "action", "actor", "detail"]


class IssueDetailSerializer(IssueSerializer):
    seen_in = IssueSeenInSerializer(many=True, read_only=True, help_text="Releases and environments it was seen in.")
    activity = serializers.SerializerMethodField(help_text="The timeline, newest first (the newest 100).")

    class Meta(IssueSerializer.Meta):
        fields = [*IssueSerializer.Meta.fields, "seen_in", "activity"]

    @extend_schema_field(IssueActivitySerializer(many=True))
    def get_activity(self, issue: ErrorIssue) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], IssueActivitySerializer(error_issue_activity(issue), many=True).data)


class IssueEventSerializer(serializers.ModelSerializer):
    event_id = serializers.SerializerMethodField(help_text="The id the SDK sent, as 32 hex digits.")

    class Meta:
        model = ErrorEvent
        fields = ["event_id", "timestamp", "received_at", "level", "release", "environment"]

    def get_event_id(self, event: ErrorEvent) -> str:
        return event.event_id.hex


class IssueEventDetailSerializer(IssueEventSerializer):
    payload = serializers.JSONField(read_only=True, help_text="The event as stored, scrubbed.")

    class Meta(IssueEventSerializer.Meta):
        fields = [*IssueEventSerializer.Meta.fields, "payload"]


class IssueResolveSerializer(StrictFieldsSerializer):
    in_next_release = serializers.BooleanField(
        default=False,
        help_text="Resolved until an event of a release newer than the project's newest arrives; "
        "plainly resolved when the project has no release yet.",
    )


class IssueIgnoreSerializer(StrictFieldsSerializer):
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Snooze until this time (in the future); it comes back after."
    )
    events = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MOST_SNOOZE_EVENTS,
        help_text="Snooze until this many more events arrive. Neither field: ignored for good.",
    )

    def validate_until(self, until: Any) -> Any:
        if until is not None and until <= timezone.now():
            raise serializers.ValidationError("must be in the future")
        return until


class IssueMergeSerializer(StrictFieldsSerializer):
    issues = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT),
        min_length=1,
        max_length=MOST_MERGED,
        help_text="Ids of the issues to fold into this one, of the same project and not merged themselves.",
    )


def _actor(request: Request) -> "User":
    # TokenScope let only an authenticated, active user this far.
    return cast("User", request.user)


def _refuse_if_merged(issue: ErrorIssue) -> None:
    if issue.status == ErrorIssue.Status.MERGED:
        raise serializers.ValidationError(
            {"status": [f"merged into issue {issue.merged_into_id}: it changes through that issue"]}
        )


@extend_schema_view(
    list=extend_schema(summary="Error issues, most recently seen first (merged ones are left out)"),
    retrieve=extend_schema(summary="An issue with where it was seen and its timeline"),
)
class IssueViewSet(StrictQueryParameters, viewsets.ReadOnlyModelViewSet):
    """Error issues: list and filter, read one, page through its events, resolve, ignore or
    snooze, unresolve, and merge others into it."""

    queryset = ErrorIssue.objects.all()
    serializer_class = IssueSerializer
    parser_classes = [JSONParser]
    pagination_class = IssuePagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = IssueFilter
    query_parameters = {"list": (*ISSUE_FILTERS, *CURSOR), "events": CURSOR}
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[ErrorIssue]:
        if self.action == "list":
            issues = error_issue_stream().select_related("assignee")
        else:
            # A merged issue is still read by its id: it says which issue it lives on in.
            issues = ErrorIssue.objects.select_related("assignee")
        return project_scoped(issues, self.request)

    def get_serializer_class(self):
        return IssueSerializer if self.action == "list" else IssueDetailSerializer

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The filters are the list's; actions on one issue find it by id alone.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _answer(self, issue: ErrorIssue) -> Response:
        fresh = self.get_queryset().prefetch_related("seen_in").get(pk=issue.pk)
        return Response(IssueDetailSerializer(fresh).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    @extend_schema(responses=IssueEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=EventPagination, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The issue's events, newest first, without their payloads (read one for that)."""
        issue = self.get_object()
        events = ErrorEvent.objects.filter(issue=issue)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(IssueEventSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("event_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="32 hex digits")],
        responses=IssueEventDetailSerializer,
    )
    @action(
        detail=True, methods=["get"], url_path=r"events/(?P<event_id>[^/.]+)", pagination_class=None, filter_backends=[]
    )
    def event(self, request: Request, pk: str | None = None, event_id: str = "") -> Response:
        """One event of the issue, with its stored payload."""
        found = error_issue_event(self.get_object(), event_id)
        if found is None:
            raise NotFound("no event of this issue has that id")
        return Response(IssueEventDetailSerializer(found).data)

    @extend_schema(request=IssueResolveSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolve now, or in the next release. Resolving a resolved issue again is harmless."""
        issue = self.get_object()
        body = IssueResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _refuse_if_merged(issue)
        issue = self._changed(
            lambda: error_issue_resolve(
                issue=issue, actor=_actor(request), in_next_release=body.validated_data["in_next_release"]
            )
        )
        return self._answer(issue)

    @extend_schema(request=IssueIgnoreSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def ignore(self, request: Request, pk: str | None = None) -> Response:
        """Ignore for good, or snooze until a time or until more events arrive."""
        issue = self.get_object()
        body = IssueIgnoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _refuse_if_merged(issue)
        chosen = body.validated_data
        issue = self._changed(
            lambda: error_issue_ignore(
                issue=issue, actor=_actor(request), until=chosen.get("until"), events=chosen.get("events")
            )
        )
        return self._answer(issue)

    @extend_schema(request=None, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def unresolve(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        _refuse_if_merged(issue)
        return self._answer(self._changed(lambda: error_issue_unresolve(issue=issue, actor=_actor(request))))

    @extend_schema(request=IssueMergeSerializer, responses=IssueDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Fold the issues named into this one: their events move here, and so will their future
        events. Each side's timeline says so."""
        target = self.get_object()
        body = IssueMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _refuse_if_merged(target)
        wanted = set(body.validated_data["issues"]) - {target.pk}
        # Only issues this token may see: another project's are as unknown as missing ones.
        sources = list(project_scoped(ErrorIssue.objects.filter(pk__in=wanted), request))
        problems = [f"issue {i} does not exist" for i in sorted(wanted - {s.pk for s in sources})]
        problems += [f"issue {s.pk} is of another project" for s in sources if s.project_id != target.project_id]
        problems += [f"issue {s.pk} is already merged" for s in sources if s.status == ErrorIssue.Status.MERGED]
        if not wanted:
            problems.append("name at least one issue other than this one")
        if problems:
            raise serializers.ValidationError({"issues": problems})
        return self._answer(
            self._changed(lambda: error_issue_merge(target=target, sources=sources, actor=_actor(request)))
        )

    @staticmethod
    def _changed(change: Any) -> ErrorIssue:
        """The service's result; its refusal (a merge raced this request) is a 400 on status."""
        try:
            return cast(ErrorIssue, change())
        except ValueError as exc:
            raise serializers.ValidationError({"status": [str(exc)]}) from exc
