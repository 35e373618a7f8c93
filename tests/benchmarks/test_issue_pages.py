"""The issue stream, an issue page and the performance view at 1,000,000 error events: server
time and query count, against the admin's plain changelist of the same model (ErrorIssue
with no columns of its own, on a plain AdminSite) in the same run.

What grows is what the pages read: the stream's 24 h and 14 d sparklines add up the hourly
counts (ErrorIssueHourly) of the 50 issues it shows; the issue page those of one hot issue (a
tenth of all events), reads its newest 500 events for the tag breakdown, and moves between them. The performance
view reads only metric rollups, so it is measured on top of the same events.

LOOKOUT_BENCH_QUICK=1 stores 20,000 events instead, to keep the harness working, not to
publish a figure.
"""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from config.urls import urlpatterns as portal_urlpatterns
from monitoring.errors.partitions import events as event_partitions
from monitoring.errors.services.hourly import error_issue_hours_rebuild
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueSeenIn, Project
from tests.benchmarks.test_admin_target_list import server_ms
from tests.e2e.issue_pages_data import populate_transactions

GOAL_MS = 300
EVENTS = 1_000_000
ISSUES = 1_000
DAYS = 14
HOT_SHARE = 10  # the hot issue gets one event in this many

# The same theme as the portal's admin, and none of the issue admin's columns, filters or reads.
plain_site = UnfoldAdminSite(name="plain")
plain_site.register(ErrorIssue, ModelAdmin)
# The portal's URLs and the plain admin beside them, for this module's tests only.
urlpatterns = [*portal_urlpatterns, path("plain-admin/", plain_site.urls)]


def _events(project: Project, issues: list[ErrorIssue], count: int) -> None:
    """`count` events over the last DAYS days, one in HOT_SHARE on the first issue and the
    rest spread over the others. On PostgreSQL one INSERT … SELECT writes them (a million
    ORM objects would take longer than the pages do), then VACUUM ANALYZE leaves the table as
    autovacuum keeps it in production: statistics current, visibility map set."""
    now = timezone.now()
    event_partitions.ensure({(now - dt.timedelta(days=d)).date() for d in range(DAYS + 2)})
    first, others = issues[0].pk, [i.pk for i in issues[1:]]
    assert others == list(range(others[0], others[0] + len(others))), "bulk_create gives consecutive ids"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO monitoring_errorevent (project_id, issue_id, event_id, grouping_hash, timestamp,
                    received_at, level, release, environment, user_hash, payload)
                SELECT %(project)s,
                    CASE WHEN n %% %(hot)s = 0 THEN %(first)s ELSE %(base)s + (n %% %(others)s) END,
                    md5(n::text)::uuid, 'bench', t, t, 'error', 'shop@1.' || (n %% 5), 'production', '',
                    jsonb_build_object(
                        'tags', jsonb_build_object('browser.name', (ARRAY['Chrome', 'Firefox', 'Safari'])[n %% 3 + 1]),
                        'contexts', jsonb_build_object('os', jsonb_build_object('name', 'Linux')),
                        'request', jsonb_build_object('url', 'https://shop.example/cart/' || (n %% 9)),
                        'user', jsonb_build_object('id', 'u' || (n %% 97)),
                        'message', 'BenchError: something broke')
                FROM generate_series(1, %(count)s) AS n,
                    LATERAL (
                        SELECT %(now)s::timestamptz - ((n::bigint * 7919) %% %(span)s) * interval '1 second'
                    ) AS at(t)
                """,
                {
                    "project": project.pk,
                    "hot": HOT_SHARE,
                    "first": first,
                    "base": others[0],
                    "others": len(others),
                    "count": count,
                    "now": now,
                    "span": DAYS * 86400,
                },
            )
            cursor.execute("VACUUM ANALYZE monitoring_errorevent")
        return
    browsers = ("Chrome", "Firefox", "Safari")
    span = dt.timedelta(days=DAYS).total_seconds()
    batch = []
    for n in range(count):
        issue = first if n % HOT_SHARE == 0 else others[n % len(others)]
        at = now - dt.timedelta(seconds=(n * 7919) % span)
        batch.append(
            ErrorEvent(
                project=project,
                issue_id=issue,
                event_id=uuid.uuid4(),
                grouping_hash="bench",
                timestamp=at,
                received_at=at,
                release=f"shop@1.{n % 5}",
                environment="production",
                payload={
                    "tags": {"browser.name": browsers[n % 3]},
                    "contexts": {"os": {"name": "Linux"}},
                    "request": {"url": f"https://shop.example/cart/{n % 9}"},
                    "user": {"id": f"u{n % 97}"},
                    "message": "BenchError: something broke",
                },
            )
        )
        if len(batch) == 20_000:
            ErrorEvent.objects.bulk_create(batch, batch_size=5_000)
            batch = []
    ErrorEvent.objects.bulk_create(batch, batch_size=5_000)


def _populate(quick: bool) -> tuple[Project, ErrorIssue]:
    project = Project.objects.create(name="Bench", slug="bench")
    now = timezone.now()
    issues = ErrorIssue.objects.bulk_create(
        ErrorIssue(
            project=project,
            grouping_hash=f"{i:064x}",
            title=f"BenchError{i}: something broke in a handler with a longish message",
            culprit=f"shop.views.handler_{i}",
            type=f"BenchError{i}",
            first_seen=now - dt.timedelta(days=DAYS),
            last_seen=now - dt.timedelta(seconds=i),
            event_count=1000,
            users_affected=10,
        )
        for i in range(ISSUES if not quick else 100)
    )
    hot = issues[0]
    ErrorIssueSeenIn.objects.bulk_create(
        ErrorIssueSeenIn(
            issue=hot, dimension="release", value=f"shop@1.{r}", first_seen=now, last_seen=now, event_count=100
        )
        for r in range(5)
    )
    _events(project, issues, 20_000 if quick else EVENTS)
    # Written past ingest, so counted per hour the way the migration counts stored events.
    error_issue_hours_rebuild()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE monitoring_errorissuehourly")
    populate_transactions(project, hours=24)
    return project, hot


# Not inside a test transaction: VACUUM cannot run in one.
@pytest.mark.django_db(transaction=True)
def test_issue_pages_at_a_million_events(admin_client, bench, quick, settings):
    settings.ROOT_URLCONF = __name__
    project, hot = _populate(quick)
    events = ErrorEvent.objects.count()
    pages = {
        "issue stream": (reverse("admin:monitoring_errorissue_changelist"), {}),
        "issue page, hot issue": (reverse("admin:monitoring_errorissue_change", args=[hot.pk]), {}),
        "performance view": (reverse("admin:monitoring_performance"), {"project": project.pk}),
    }
    baseline_url = reverse("plain:monitoring_errorissue_changelist")
    runs = 3 if quick else 11
    for url, params in [*pages.values(), (baseline_url, {})]:
        admin_client.get(url, params)  # warm up templates and caches
    baseline = server_ms(admin_client, baseline_url, {}, runs)
    failed = []
    for name, (url, params) in pages.items():
        value = server_ms(admin_client, url, params, runs)
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(url, params)
        figure = bench.record(
            name=f"{name}, {events} error events ({len(queries)} queries)",
            value=value,
            unit="ms",
            baseline="plain ErrorIssue changelist",
            baseline_value=baseline,
            goal=f"<= {GOAL_MS} ms",
            met=value <= GOAL_MS,
        )
        if not figure.met:
            failed.append(f"{name}: {value:.0f} ms")
    if not quick:
        assert not failed, failed
