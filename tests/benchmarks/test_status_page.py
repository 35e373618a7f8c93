"""A public status page of 200 components with 90 days of daily rollups each: server time of
an uncached render (the snapshot built from the database, then the template), of a cached
render, and of cached summary.json, each against the do-nothing view in the same run; and
requests per second of the cached page and summary.json through gunicorn, as wrk counts them.

Uncached means the page's snapshot and HTML are not in the cache: each sample bumps the
page's version, as a posted incident update does. The 90-day bars change only as the daily
rollup moves on, so they stay cached across that; cold (nothing cached at all, as for the
first render after the rollup) is reported beside it.
"""

import statistics
import time

import pytest
from django.core.cache import cache

from alerts.models import Component, ComponentGroup, StatusPage
from alerts.status.services import status_page_touch
from monitoring.models import Project, Target
from tests.alerts.status.factories import daily_rollups
from tests.benchmarks.server import Gunicorn, manage, requests_per_second, server_environment

GOAL_MS = 50
GOAL_PER_SECOND = 2000
COMPONENTS = 200
GROUPS = 10
BASELINE = "/bench/do-nothing"


def build_page() -> StatusPage:
    """The page both benchmarks read: 200 components in 10 groups, 90 closed days each."""
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
    return page


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
    page = build_page()

    runs = 5 if quick else 30
    url = f"/status/{page.slug}/"
    for warm in (url, "/bench/do-nothing"):
        client.get(warm)
    baseline = _median_ms(client, "/bench/do-nothing", runs)

    def invalidate():
        status_page_touch(page_id=page.pk)

    def forget_everything():
        cache.clear()
        invalidate()

    uncached = _median_ms(client, url, runs, before=invalidate)
    cold = _median_ms(client, url, runs, before=forget_everything)
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
            # Once a day (or as the daily rollup moves on): the bars are built from the rollups too.
            ("status page, cold (bars not cached either)", cold, "report", float("inf")),
            ("status page, cached", cached, "report", float("inf")),
            ("summary.json, cached", summary, "report", float("inf")),
        )
    ]
    figure = figures[0]
    if not quick:
        assert figure.met, f"uncached status page took {uncached:.1f} ms (median of {runs})"


@pytest.fixture
def server(tmp_path):
    """gunicorn as the Procfile runs it, on a fresh embedded database holding the page."""
    env = server_environment(tmp_path / "data")
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", "from tests.benchmarks.test_status_page import build_page\nbuild_page()")
    running = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        running.wait_until_serving(BASELINE)
        yield running
    finally:
        running.stop()


def test_cached_status_page_requests_per_second(server, bench, quick):
    seconds = 2 if quick else 10
    address = (server.host, server.port)
    # name: (path, what the client accepts, held to the goal). Every browser and CDN asks
    # for gzip; the uncompressed page, over a megabyte each, is reported for a client that
    # asks for no encoding.
    gzip = ("Accept-Encoding: gzip, deflate, br",)
    paths = {
        "status page, cached, gzip": ("/status/bench/", gzip, True),
        "summary.json, cached, gzip": ("/status/bench/api/v2/summary.json", gzip, True),
        "status page, cached, uncompressed": ("/status/bench/", (), False),
    }
    for path, headers, _ in ((BASELINE, gzip, False), *paths.values()):
        requests_per_second(*address, path, seconds=1, headers=headers)  # warm every worker and the cache
    baseline: list[float] = []
    rates: dict[str, list[float]] = {name: [] for name in paths}
    sizes: dict[str, int] = {}
    for _ in range(2):  # alternate, so a busy moment of the machine hits all alike
        baseline.append(requests_per_second(*address, BASELINE, seconds=seconds // 2, headers=gzip)[0])
        for name, (path, headers, _) in paths.items():
            per_second, sizes[name] = requests_per_second(*address, path, seconds=seconds // 2, headers=headers)
            rates[name].append(per_second)
    figures = [
        bench.record(
            name=f"{name} through gunicorn ({server.workers} workers, {sizes[name] // 1024} KiB)",
            value=sum(values) / 2,
            unit="req/s",
            baseline=f"GET {BASELINE}",
            baseline_value=sum(baseline) / 2,
            goal=f">= {GOAL_PER_SECOND} req/s" if paths[name][2] else "report",
            met=sum(values) / 2 >= GOAL_PER_SECOND or not paths[name][2],
        )
        for name, values in rates.items()
    ]
    if not quick:
        assert all(f.met for f in figures), [f"{f.name}: {f.value:.0f} req/s" for f in figures]
