"""`GET /api/v1/overview`: the team's monitoring API in one answer.

The database (size, connections, largest tables, buffer cache hit ratio), the Celery queues'
depths, ingest rates from the rollups, open incidents, targets down and backup freshness. It
gathers both apps (alerts, monitoring, backups) through their selectors, which only config/ may
import side by side, as the admin's dashboard does (config/dashboard.py).

A figure this deployment cannot give is null with a note saying why (SQLite keeps no
connection count or buffer statistics; the embedded broker is folders, not queues), never a
guess. Every figure is read in a bounded number of queries, whatever the data.
"""

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.incidents.selectors import incidents_list
from backups.selectors import freshness
from config.celery import QUEUES, REGION_QUEUES
from monitoring.common.strict import StrictQueryParameters
from monitoring.models import MetricRollup, ProbeResult
from monitoring.uptime.selectors import targets_overview

LARGEST_TABLES = 10
INGEST_WINDOW = timedelta(hours=1)
BROKER_TIMEOUT_SECONDS = 1.0


@dataclass
class DatabaseFigures:
    vendor: str
    size_bytes: int | None = None
    connections: int | None = None
    cache_hit_ratio: float | None = None
    largest_tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def database_figures() -> DatabaseFigures:
    if connection.vendor == "postgresql":
        return _postgresql_figures()
    if connection.vendor == "sqlite":
        return _sqlite_figures()
    return DatabaseFigures(vendor=connection.vendor, notes=[f"no figures are read from {connection.vendor}"])


def _postgresql_figures() -> DatabaseFigures:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_database_size(current_database()),"
            " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),"
            " (SELECT blks_hit::float / NULLIF(blks_hit + blks_read, 0) FROM pg_stat_database"
            "  WHERE datname = current_database())"
        )
        size, connections, ratio = cursor.fetchone()
        # Partitioned tables (relkind p) count with their partitions; the partitions themselves not again.
        cursor.execute(
            "SELECT c.relname, CASE WHEN c.relkind = 'p' THEN"
            "  (SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)"
            "   FROM pg_inherits i WHERE i.inhparent = c.oid)"
            "  ELSE pg_total_relation_size(c.oid) END AS bytes"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY bytes DESC, c.relname LIMIT %s",
            [LARGEST_TABLES],
        )
        tables = [{"table": name, "size_bytes": int(size_bytes)} for name, size_bytes in cursor.fetchall()]
    notes = [] if ratio is not None else ["cache_hit_ratio: no block has been read yet"]
    return DatabaseFigures(
        vendor="postgresql",
        size_bytes=int(size),
        connections=int(connections),
        cache_hit_ratio=round(ratio, 4) if ratio is not None else None,
        largest_tables=tables,
        notes=notes,
    )


def _sqlite_figures() -> DatabaseFigures:
    name = str(settings.DATABASES["default"]["NAME"])
    size = None
    if os.path.exists(name):
        # The write-ahead log holds committed pages not yet copied back: part of the database.
        size = sum(os.path.getsize(path) for path in (name, f"{name}-wal") if os.path.exists(path))
    notes = [
        "connections: SQLite has no server and keeps no connection count",
        "cache_hit_ratio: SQLite keeps no buffer cache statistics",
    ]
    tables: list[dict[str, Any]] = []
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name NOT LIKE 'sqlite_%%'"
                " GROUP BY name ORDER BY 2 DESC, 1 LIMIT %s",
                [LARGEST_TABLES],
            )
            tables = [{"table": table, "size_bytes": int(size_bytes)} for table, size_bytes in cursor.fetchall()]
        except Exception:  # noqa: BLE001  dbstat is a compile-time option of SQLite
            notes.append("largest_tables: this SQLite is built without the dbstat table")
    if size is None:
        notes.append("size_bytes: the database is not a file (in memory)")
    return DatabaseFigures(vendor="sqlite", size_bytes=size, largest_tables=tables, notes=notes)


def queue_depths() -> dict[str, Any]:
    """Messages waiting per Celery queue, read with LLEN when the broker is Redis."""
    url = settings.CELERY_BROKER_URL
    scheme = url.split("://", 1)[0]
    queues = (*QUEUES, *REGION_QUEUES)
    if scheme not in ("redis", "rediss"):
        return {"broker": scheme, "depths": None, "note": f"queue depths are read from Redis only, not {scheme}"}
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
        )
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(queue)
            depths = dict(zip(queues, pipe.execute(), strict=True))
    except redis.RedisError as exc:
        # The broker's address may hold a password: the answer names only what failed.
        return {"broker": scheme, "depths": None, "note": f"the broker could not be read ({type(exc).__name__})"}
    return {"broker": scheme, "depths": depths, "note": ""}


def ingest_rates(*, now: datetime) -> dict[str, Any]:
    """Per minute over the last hour: metric points from the minute rollups, probe results."""
    since = now - INGEST_WINDOW
    points = MetricRollup.objects.filter(resolution=MetricRollup.Resolution.MINUTE, start__gte=since).aggregate(
        n=Sum("count")
    )["n"]
    results = ProbeResult.objects.filter(checked_at__gte=since, checked_at__lte=now).count()
    minutes = INGEST_WINDOW.total_seconds() / 60
    return {
        "window_minutes": int(minutes),
        "metric_points_per_minute": round((points or 0) / minutes, 2),
        "probe_results_per_minute": round(results / minutes, 2),
    }


def incident_figures() -> dict[str, Any]:
    counts = dict(
        incidents_list(open_only=True)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
        .values_list("severity", "n")
    )
    return {"open": sum(counts.values()), "by_severity": counts}


def target_figures() -> dict[str, Any]:
    overview = targets_overview(limit=LARGEST_TABLES)
    return {
        "down": overview.counts.get("down", 0),
        "by_status": overview.counts,
        "failing": [
            {"id": t.pk, "name": t.name, "status": t.status, "since": t.status_changed_at} for t in overview.failing
        ],
    }


Table = inline_serializer("OverviewTable", {"table": serializers.CharField(), "size_bytes": serializers.IntegerField()})
OverviewAnswer = inline_serializer(
    "Overview",
    {
        "at": serializers.DateTimeField(),
        "database": inline_serializer(
            "OverviewDatabase",
            {
                "vendor": serializers.CharField(),
                "size_bytes": serializers.IntegerField(allow_null=True),
                "connections": serializers.IntegerField(allow_null=True),
                "cache_hit_ratio": serializers.FloatField(
                    allow_null=True, help_text="PostgreSQL's buffer cache: blks_hit / (blks_hit + blks_read)."
                ),
                "largest_tables": serializers.ListField(child=Table),
                "notes": serializers.ListField(child=serializers.CharField(), help_text="Why a figure is null."),
            },
        ),
        "queues": inline_serializer(
            "OverviewQueues",
            {
                "broker": serializers.CharField(help_text="The broker's transport: redis, amqp, filesystem…"),
                "depths": serializers.DictField(child=serializers.IntegerField(), allow_null=True),
                "note": serializers.CharField(allow_blank=True),
            },
        ),
        "ingest": inline_serializer(
            "OverviewIngest",
            {
                "window_minutes": serializers.IntegerField(),
                "metric_points_per_minute": serializers.FloatField(),
                "probe_results_per_minute": serializers.FloatField(),
            },
        ),
        "incidents": inline_serializer(
            "OverviewIncidents",
            {
                "open": serializers.IntegerField(),
                "by_severity": serializers.DictField(child=serializers.IntegerField()),
            },
        ),
        "targets": inline_serializer(
            "OverviewTargets",
            {
                "down": serializers.IntegerField(),
                "by_status": serializers.DictField(child=serializers.IntegerField()),
                "failing": serializers.ListField(child=serializers.DictField()),
            },
        ),
        "backups": inline_serializer(
            "OverviewBackups",
            {
                "plans": serializers.IntegerField(),
                "newest_success_at": serializers.DateTimeField(allow_null=True),
                "newest_verified_at": serializers.DateTimeField(allow_null=True),
                "failing_plans": serializers.ListField(child=serializers.CharField()),
                "overdue_plans": serializers.ListField(child=serializers.CharField()),
                "unverified_plans": serializers.ListField(child=serializers.CharField()),
            },
        ),
    },
)


class OverviewView(StrictQueryParameters, APIView):
    """The portal's state in one answer, for a script or another dashboard to poll.

    Database, queue and backup figures are the installation's, not a project's, so a
    project-limited token is refused here."""

    query_parameters = {"get": ()}

    @extend_schema(responses=OverviewAnswer)
    def get(self, request: Request) -> Response:
        now = timezone.now()
        return Response(
            {
                "at": now,
                "database": asdict(database_figures()),
                "queues": queue_depths(),
                "ingest": ingest_rates(now=now),
                "incidents": incident_figures(),
                "targets": target_figures(),
                "backups": asdict(freshness(now)),
            }
        )
