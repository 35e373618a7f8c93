"""Healthchecks-compatible ping endpoints: cheap, GET or POST, from curl in a crontab; and the
token API's read of heartbeats and their pings."""

import re

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseNotFound
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.common.strict import PAGINATION, StrictQueryParameters
from monitoring.heartbeats.services.pings import Ping, heartbeat_ping
from monitoring.models import Heartbeat, HeartbeatPing
from monitoring.projects.api.pagination import CURSOR, StrictCursorPagination
from monitoring.projects.api.scoping import project_scoped

_RID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ALLOWED = ["GET", "POST", "HEAD"]


@csrf_exempt
def ping(request, ping_key, signal: str = "", exit_code: int | None = None):
    if request.method not in _ALLOWED:
        return HttpResponseNotAllowed(_ALLOWED)
    if exit_code is not None and exit_code > 255:
        return HttpResponseBadRequest("exit_code: must be 0-255\n", content_type="text/plain")
    rid = request.GET.get("rid", "")
    if rid and not _RID.match(rid):
        return HttpResponseBadRequest(
            "rid: up to 64 letters, digits, '.', '_', ':' or '-'\n", content_type="text/plain"
        )
    # Read past the limit by one byte only, to know whether there was more; never the whole
    # body into memory, and never the 413 that request.body would raise for a large one.
    limit = settings.HEARTBEAT_PING_BODY_LIMIT
    raw = request.read(limit + 1) if request.method == "POST" else b""
    found = heartbeat_ping(
        ping_key=ping_key,
        ping=Ping(
            kind=_kind(signal, exit_code),
            at=timezone.now(),
            exit_code=exit_code,
            rid=rid,
            body=raw[:limit].decode(errors="replace").replace("\x00", "\ufffd"),
            body_truncated=len(raw) > limit,
            method=request.method,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", ""),
        ),
    )
    if not found:
        return HttpResponseNotFound("not found\n", content_type="text/plain")
    return HttpResponse("OK\n", content_type="text/plain")


def _kind(signal: str, exit_code: int | None) -> int:
    if exit_code is not None:
        return HeartbeatPing.Kind.FAIL if exit_code else HeartbeatPing.Kind.SUCCESS
    return {
        "": HeartbeatPing.Kind.SUCCESS,
        "start": HeartbeatPing.Kind.START,
        "fail": HeartbeatPing.Kind.FAIL,
        "log": HeartbeatPing.Kind.LOG,
    }[signal]


# --- The token API: heartbeats and the pings they received ---------------------------------
# A heartbeat is created, changed, paused and deleted as a target (/api/v1/targets, kind
# "heartbeat"), whose results and flips are read there too; here are what only a heartbeat has.


class HeartbeatReadSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="target.name", read_only=True)
    project = serializers.IntegerField(source="target.project_id", read_only=True, allow_null=True)
    status = serializers.CharField(source="target.status", read_only=True, help_text="The target's status.")
    ping_url = serializers.SerializerMethodField()

    class Meta:
        model = Heartbeat
        fields = [
            "target",
            "name",
            "project",
            "status",
            "ping_url",
            "schedule",
            "period_seconds",
            "cron",
            "time_zone",
            "grace_seconds",
            "max_runtime_seconds",
            "min_runtime_seconds",
            "last_ping_at",
            "expected_at",
            "last_duration_ms",
        ]
        read_only_fields = fields

    def get_ping_url(self, heartbeat: Heartbeat) -> str:
        return f"{settings.SITE_URL}/ping/{heartbeat.ping_key}"


class PingSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField(help_text="success, start, fail or log")

    class Meta:
        model = HeartbeatPing
        fields = [
            "received_at",
            "kind",
            "exit_code",
            "rid",
            "method",
            "remote_addr",
            "user_agent",
            "body",
            "body_truncated",
            "duration_ms",
        ]

    def get_kind(self, ping: HeartbeatPing) -> str:
        return HeartbeatPing.Kind(ping.kind).name.lower()


class PingPagination(StrictCursorPagination):
    # What the (heartbeat, -received_at) index serves: newest first.
    ordering = ("-received_at", "-id")


class HeartbeatViewSet(StrictQueryParameters, viewsets.ReadOnlyModelViewSet):
    """Heartbeats (by their target's id) with their schedule and run state, and their pings."""

    queryset = Heartbeat.objects.select_related("target").order_by("target_id")
    serializer_class = HeartbeatReadSerializer
    query_parameters = {"list": PAGINATION, "pings": CURSOR}
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[Heartbeat]:
        return project_scoped(super().get_queryset(), self.request, field="target__project")

    @extend_schema(responses=PingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=PingPagination)
    def pings(self, request: Request, pk: str | None = None) -> Response:
        """The pings received, newest first, with their bodies (up to the stored limit)."""
        heartbeat = self.get_object()
        page = self.paginate_queryset(HeartbeatPing.objects.filter(heartbeat=heartbeat))
        return self.get_paginated_response(PingSerializer(page, many=True).data)
