"""Targets over REST: CRUD, their results and flips, and a status summary."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.common.strict import PAGINATION, NamesField, StrictFieldsSerializer, StrictQueryParameters
from monitoring.models import Flip, Heartbeat, ProbeResult, Status, Target
from monitoring.projects.api.scoping import check_project, project_scoped
from monitoring.uptime.selectors import (
    SILENT,
    WINDOWS,
    target_flips,
    target_regions,
    target_results,
    target_state,
    target_statuses,
    uptime_by_target,
)
from monitoring.uptime.services.actions import targets_pause, targets_resume
from monitoring.uptime.services.config import (
    HEARTBEAT_FIELDS,
    STATUS_FIELDS,
    TARGET_FIELDS,
    TargetConfigError,
    target_save,
)


class HeartbeatSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    ping_url = serializers.SerializerMethodField()

    class Meta:
        model = Heartbeat
        fields = [*HEARTBEAT_FIELDS, "ping_url", "last_ping_at", "expected_at", "last_duration_ms"]
        read_only_fields = ["ping_url", "last_ping_at", "expected_at", "last_duration_ms"]
        # The model validates in target_save, with the target's own errors, in one answer.
        extra_kwargs: dict[str, dict[str, Any]] = {name: {"validators": []} for name in HEARTBEAT_FIELDS}

    def get_ping_url(self, heartbeat: Heartbeat) -> str:
        return f"{settings.SITE_URL}/ping/{heartbeat.ping_key}"


class TargetSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    tags = NamesField(child=serializers.CharField(max_length=50), required=False, sort=True)
    heartbeat = HeartbeatSerializer(required=False, allow_null=True)
    silent_regions = serializers.SerializerMethodField(
        help_text="Regions with no result for two intervals: they count as unknown, never as their last status."
    )
    # Declared here, not from the model's choices: "silent" is a status as read, never stored.
    status = serializers.ChoiceField(
        choices=[*Status.values, SILENT],
        read_only=True,
        help_text="unknown, up, degraded, down, paused, or silent: too few regions report to reach "
        "the quorum (see silent_regions and …/regions).",
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "project",
            *TARGET_FIELDS,
            "tags",
            "heartbeat",
            *STATUS_FIELDS,
            "silent_regions",
        ]
        read_only_fields = ["id", *STATUS_FIELDS]
        extra_kwargs: dict[str, dict[str, Any]] = {name: {"validators": []} for name in TARGET_FIELDS}

    def get_silent_regions(self, target: Target) -> list[str]:
        return list(target_state(target, now=timezone.now()).silent_regions)

    def to_representation(self, target: Target) -> dict[str, Any]:
        data = super().to_representation(target)
        data["status"] = target_state(target, now=timezone.now()).status
        if target.kind != Target.Kind.HEARTBEAT:
            data["heartbeat"] = None
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "project" in attrs:
            check_project(self.context["request"], attrs["project"])
        return attrs

    def create(self, validated: dict[str, Any]) -> Target:
        return self._save(Target(), validated)

    def update(self, target: Target, validated: dict[str, Any]) -> Target:
        return self._save(target, validated)

    def _save(self, target: Target, validated: dict[str, Any]) -> Target:
        tags = validated.pop("tags", None)
        heartbeat = validated.pop("heartbeat", None)
        if "paused" in validated and target.pk and validated["paused"] != target.paused:
            raise serializers.ValidationError({"paused": ["use POST …/pause or …/resume"]})
        for name, value in validated.items():
            setattr(target, name, value)
        try:
            return target_save(target=target, tags=tags, heartbeat=heartbeat)
        except TargetConfigError as exc:
            raise serializers.ValidationError(exc.fields) from exc


class ResultSerializer(serializers.ModelSerializer):
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = ProbeResult
        fields = [
            "checked_at",
            "region",
            "outcome",
            "latency_ms",
            "dns_ms",
            "connect_ms",
            "tls_ms",
            "first_byte_ms",
            "status_code",
            "error",
        ]

    def get_outcome(self, result: ProbeResult) -> str:
        return result.get_outcome_display().lower()


class RegionSerializer(serializers.Serializer):
    region = serializers.CharField()
    status = serializers.CharField(help_text="The region's verdict: up, degraded, down, or unknown while silent.")
    silent = serializers.BooleanField(help_text="No result from this region for two intervals.")
    last_result_at = serializers.DateTimeField(allow_null=True)
    last_outcome = serializers.CharField(allow_null=True, help_text="up, degraded or down")
    last_latency_ms = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)


class FlipSerializer(serializers.ModelSerializer):
    # Plain strings: the values are the target's status enum, which the schema names once.
    old_status = serializers.CharField(help_text="A target status: unknown, up, degraded, down or paused.")
    new_status = serializers.CharField(help_text="A target status: unknown, up, degraded, down or paused.")

    class Meta:
        model = Flip
        fields = ["at", "old_status", "new_status", "cause", "reason"]


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("since")
    if raw is None:
        return None
    moment = parse_datetime(raw)
    if moment is None or moment.tzinfo is None:
        raise serializers.ValidationError({"since": ["an ISO 8601 time with a zone, e.g. 2026-05-01T00:00:00Z"]})
    return moment


class TargetFilter(serializers.Serializer):
    project = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Only this project's targets (its id)."
    )


@extend_schema_view(list=extend_schema(parameters=[TargetFilter]))
class TargetViewSet(StrictQueryParameters, viewsets.ModelViewSet):
    """Uptime and heartbeat targets. Pausing and resuming have their own actions."""

    serializer_class = TargetSerializer
    parser_classes = [JSONParser]  # the token API reads JSON only; anything else is a 415
    query_parameters = {"list": ("project", *PAGINATION), "summary": ("project",), "results": ("since",)}
    queryset = Target.objects.select_related("heartbeat").prefetch_related("tags").order_by("id")
    # A limited token sees and writes its projects' targets; results, flips, regions and the
    # summary all read through get_queryset.
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[Target]:
        targets = project_scoped(super().get_queryset(), self.request)
        chosen = TargetFilter(data=self.request.query_params)
        chosen.is_valid(raise_exception=True)
        if "project" in chosen.validated_data:
            targets = targets.filter(project_id=chosen.validated_data["project"])
        return targets

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="ISO 8601 time with a zone; results after it, newest first"
            )
        ],
        responses=ResultSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def results(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        rows = target_results(target_id=target.pk, since=_since(request), limit=500)
        return Response(ResultSerializer(rows, many=True).data)

    @extend_schema(responses=RegionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def regions(self, request: Request, pk: str | None = None) -> Response:
        """Each region's status and newest result."""
        target = self.get_object()
        return Response(RegionSerializer(target_regions(target=target), many=True).data)

    @extend_schema(responses=FlipSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def flips(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        return Response(FlipSerializer(target_flips(target_id=target.pk, limit=500), many=True).data)

    @extend_schema(request=None, responses=TargetSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        targets_pause(target_ids=[target.pk], at=timezone.now(), by=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=target.pk)).data)

    @extend_schema(request=None, responses=TargetSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        targets_resume(target_ids=[target.pk], at=timezone.now(), by=request.user.get_username())
        return Response(self.get_serializer(self.get_queryset().get(pk=target.pk)).data)

    @extend_schema(
        parameters=[TargetFilter],
        responses=inline_serializer(
            "TargetSummary",
            {
                "counts": serializers.DictField(child=serializers.IntegerField()),
                "targets": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=False, methods=["get"])
    def summary(self, request: Request) -> Response:
        """Every target's status with uptime and p95 over 24 h and 30 d: what a status board shows."""
        targets = self.get_queryset().values("id", "name", "project_id", "kind", "status", "status_changed_at")
        rows: list[dict[str, Any]] = [dict(row) for row in targets]
        ids, now = [r["id"] for r in rows], timezone.now()
        # The status as read now: a target whose regions went silent counts as "silent".
        statuses = {s.target_id: s.status for s in target_statuses(target_ids=ids, now=now)}
        for row in rows:
            row["status"] = statuses.get(row["id"], row["status"])
        figures = {name: uptime_by_target(target_ids=ids, window=WINDOWS[name], now=now) for name in ("24h", "30d")}
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            for name, by_target in figures.items():
                found = by_target.get(row["id"])
                row[f"uptime_{name}"] = found.uptime_pct if found else None
                row[f"p95_ms_{name}"] = found.p95_ms if found else None
        return Response({"counts": counts, "targets": rows}, status=status.HTTP_200_OK)
