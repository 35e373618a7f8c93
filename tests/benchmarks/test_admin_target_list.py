"""The admin target list with 10,000 targets and their rollups: server time and query count,
against the admin's plain Pulse list (no columns of its own) in the same run.

The list reads no raw results (its figures come from rollups), so the result table's size
does not enter; what grows is the rollups the page reads: 24 hours and 30 days per target.
"""

import datetime as dt
import statistics
import time

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Project, Target, TargetRollup
from monitoring.uptime.services.rollups import floor_time, latency_bucket

GOAL_MS = 300
TARGETS = 10_000


def rollups(target_ids, *, hours: int, days: int):
    now = timezone.now()
    for resolution, count in ((3600, hours), (86400, days)):
        start = floor_time(now, resolution)
        rows = (
            TargetRollup(
                target_id=pk,
                resolution=resolution,
                bucket_start=start - dt.timedelta(seconds=resolution * i),
                count=120,
                up_count=119,
                degraded_count=1,
                latency_count=119,
                latency_sum=119 * 90,
                latency_min=40,
                latency_max=400,
                histogram={str(latency_bucket(90)): 110, str(latency_bucket(400)): 9},
            )
            for pk in target_ids
            for i in range(1, count + 1)
        )
        TargetRollup.objects.bulk_create(rows, batch_size=5000)


def server_ms(client, url, params, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(samples)


@pytest.mark.django_db
def test_target_list_with_ten_thousand_targets(admin_client, bench, quick, monkeypatch):
    project = Project.objects.create(name="Bench", slug="bench")
    Target.objects.bulk_create(
        (
            Target(
                project=project,
                name=f"target {i:05}",
                kind="http",
                url=f"https://t{i}.example/",
                status="up",
                last_latency_ms=90,
                cert_expires_at=timezone.now() + dt.timedelta(days=40),
            )
            for i in range(TARGETS)
        ),
        batch_size=2000,
    )
    ids = list(Target.objects.values_list("pk", flat=True))
    rollups(ids, hours=2 if quick else 24, days=2 if quick else 30)

    targets_url = reverse("admin:monitoring_target_changelist")
    baseline_url = reverse("admin:monitoring_pulse_changelist")
    runs = 3 if quick else 15
    for url in (targets_url, baseline_url):
        admin_client.get(url)  # warm up templates and caches
    baseline = server_ms(admin_client, baseline_url, {}, runs)
    value = server_ms(admin_client, targets_url, {"status": "up"}, runs)

    query_counts = []
    target_admin = admin.site._registry[Target]
    for per_page in (20, 100):
        monkeypatch.setattr(target_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(targets_url, {"status": "up"})
        assert response.status_code == 200 and response.content.decode().count("target 0") >= per_page
        query_counts.append(len(queries))
    figure = bench.record(
        name=f"admin target list, {TARGETS} targets, filtered, 100 per page",
        value=value,
        unit="ms",
        baseline="admin Pulse list",
        baseline_value=baseline,
        goal=f"<= {GOAL_MS} ms",
        met=value <= GOAL_MS,
    )
    assert query_counts[0] == query_counts[1], f"queries grow with the page: {query_counts}"
    if not quick:
        assert figure.met, f"{value:.0f} ms"
