"""A public status page of 200 components with 90 days of daily rollups each: server time of
an uncached render (the snapshot built from the database, then the template), of a cached
render, and of cached summary.json, each against the do-nothing view in the same run.

Uncached means the page's snapshot is not in the cache: each sample bumps the page's
version, as a posted incident update does.
"""

import statistics
import time

import pytest
from django.db.models import F

from alerts.models import Component, ComponentGroup, StatusPage
from monitoring.models import Project, Target
from tests.alerts.status.factories import daily_rollups

GOAL_MS = 50
COMPONENTS = 200
GROUPS = 10


def _median_ms(client, url, runs, before=None):
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(samples)


@pytest.mark.urls("tests.benchmarks.urls")
@pytest.mark.django_db
def test_status_page_with_200_components(client, bench, quick):
    project = Project.objects.create(name="Bench", slug="bench")
    targets = Target.objects.bulk_create(
        Target(project=project, name=f"svc {i:03}", kind="http", url=f"https://s{i}.example/", status="up")
        for i in range(COMPONENTS)
    )
    page = StatusPage.objects.create(slug="bench", title="Bench status")
    groups = ComponentGroup.objects.bulk_create(
        ComponentGroup(page=page, name=f"Region {g}", position=g) for g in range(GROUPS)
    )
    Component.objects.bulk_create(
        Component(page=page, group=groups[i % GROUPS], name=t.name, target=t, position=i) for i, t in enumerate(targets)
    )
    for i, target in enumerate(targets):
        daily_rollups(target, [99.95 if (d + i) % 17 else 98.5 for d in range(90)])

    runs = 5 if quick else 30
    url = f"/status/{page.slug}/"
    for warm in (url, "/bench/do-nothing"):
        client.get(warm)
    baseline = _median_ms(client, "/bench/do-nothing", runs)

    def invalidate():
        StatusPage.objects.filter(pk=page.pk).update(content_version=F("content_version") + 1)

    uncached = _median_ms(client, url, runs, before=invalidate)
    cached = _median_ms(client, url, runs)
    summary = _median_ms(client, f"/status/{page.slug}/api/v2/summary.json", runs)

    figures = [
        bench.record(
            name=name,
            value=value,
            unit="ms",
            baseline="do-nothing view",
            baseline_value=baseline,
            goal=goal,
            met=value <= limit,
        )
        for name, value, goal, limit in (
            (f"status page, {COMPONENTS} components x 90 days, uncached", uncached, f"<= {GOAL_MS} ms", GOAL_MS),
            ("status page, cached", cached, "report", float("inf")),
            ("summary.json, cached", summary, "report", float("inf")),
        )
    ]
    figure = figures[0]
    if not quick:
        assert figure.met, f"uncached status page took {uncached:.1f} ms (median of {runs})"
