"""The monitoring pages of the admin in a real browser, on data a team would have after a day:
the dashboard, the target list and a target page, Web Vitals and the metric explorer.

Each page must draw every chart with data points (a painted canvas), log no console error and
not scroll sideways at 1400 px. Screenshots go to tests/e2e/screenshots/ (git-ignored).

`populate()` is also what a person runs to look at these pages by hand:

    .venv/bin/python -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); \
django.setup(); from tests.e2e.test_admin_pages import populate; populate()"
"""

import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.models import Incident
from monitoring.errors.services.issues import error_issues_fold_pending
from monitoring.models import Flip, Heartbeat, ProbeResult, Status, Target
from monitoring.projects.services.projects import project_create
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.services.rollups import rollups_advance
from tests.monitoring.errors.factories import store_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USER, PASSWORD = "operator", "a-long-and-unguessable-passphrase"
WIDTH = 1400
NO_SIDEWAYS_SCROLL = """() => [document.documentElement, ...document.querySelectorAll('*')].every(e => {
  const overflow = getComputedStyle(e).overflowX;
  const scrolls = e === document.documentElement || overflow === 'auto' || overflow === 'scroll';
  return !scrolls || e.scrollWidth <= e.clientWidth + 1;
})"""
CHARTS_DRAWN = """() => [...document.querySelectorAll('figure[data-lookout-chart]')]
  .every(f => f.dataset.drawn || !f.querySelector('canvas'))"""
# How many of the page's canvases hold painted pixels, and how many there are.
PAINTED_CANVASES = """() => [...document.querySelectorAll('figure[data-lookout-chart] canvas')].map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
  return false;
})"""


def populate(*, seed: int = 7) -> dict:
    """A day of a small team's data: probed targets with a short outage, heartbeats (one
    late), open incidents, error issues, transactions, Web Vitals per route over a week and a
    custom metric; an empty demo project listed first. Returns what the pages are about."""
    rng = random.Random(seed)
    now = timezone.now()
    user_model = get_user_model()
    if not user_model.objects.filter(username=USER).exists():
        user_model.objects.create_superuser(USER, "operator@example.com", PASSWORD)
    project_create(name="Demo")
    shop = project_create(name="Storefront").project

    checkout = Target.objects.create(project=shop, name="Checkout API", kind="http", url="http://127.0.0.1:8199/health")
    Target.objects.create(project=shop, name="Blog", kind="http", url="https://blog.example/")
    search = Target.objects.create(project=shop, name="Search", kind="tcp", host="search.internal", port=9200)
    outage = (now - timedelta(hours=3), now - timedelta(hours=2, minutes=40))
    results = []
    for minute in range(24 * 60, 0, -1):
        at = now - timedelta(minutes=minute)
        down = outage[0] <= at < outage[1]
        results.append(
            ProbeResult(
                target=checkout,
                checked_at=at,
                outcome=ProbeResult.Outcome.DOWN if down else ProbeResult.Outcome.UP,
                latency_ms=None if down else int(rng.lognormvariate(5, 0.35)),
                error="connection refused to 127.0.0.1:8199" if down else "",
            )
        )
    ProbeResult.objects.bulk_create(results, batch_size=2000)
    Flip.objects.bulk_create(
        [
            Flip(
                target=checkout,
                at=outage[0],
                old_status="up",
                new_status="down",
                reason="refused",
                cause=FlipCause.UNKNOWN,
            ),
            Flip(
                target=checkout,
                at=outage[1],
                old_status="down",
                new_status="up",
                reason="answered",
                cause=FlipCause.UNKNOWN,
            ),
        ]
    )
    Target.objects.filter(pk=checkout.pk).update(status=Status.UP, status_changed_at=outage[1], last_checked_at=now)
    Target.objects.filter(pk=search.pk).update(
        status=Status.DOWN,
        status_changed_at=now - timedelta(minutes=12),
        last_error="connection refused to search.internal:9200",
    )
    nightly = Target.objects.create(project=shop, name="Nightly export", kind="heartbeat")
    Heartbeat.objects.create(
        target=nightly,
        period_seconds=86400,
        expected_at=now - timedelta(hours=2),
        last_ping_at=now - timedelta(hours=26),
    )
    cron = Target.objects.create(project=shop, name="Cache warmer", kind="heartbeat")
    Heartbeat.objects.create(
        target=cron,
        period_seconds=3600,
        expected_at=now + timedelta(minutes=50),
        last_ping_at=now - timedelta(minutes=10),
    )
    rollups_advance(now=now)

    Incident.objects.create(
        project=shop,
        title="Search down: connection refused to search.internal:9200",
        severity="critical",
        dedup_key="search",
        opened_at=now - timedelta(minutes=11),
    )
    Incident.objects.create(
        project=shop,
        title="Checkout p95 2.8 s > 2 s for 10 min",
        severity="high",
        dedup_key="p95",
        opened_at=now - timedelta(hours=1),
        status="acknowledged",
        acknowledged_at=now - timedelta(minutes=50),
    )

    for _ in range(40):
        store_event(shop, message="KeyError: 'total'", received_at=now - timedelta(minutes=rng.randint(1, 1400)))
    for _ in range(9):
        store_event(
            shop, message="TimeoutError talking to payments", received_at=now - timedelta(minutes=rng.randint(1, 600))
        )
    error_issues_fold_pending()

    points = []
    for hour in range(7 * 24):
        at = now - timedelta(hours=hour, minutes=rng.randint(0, 59))
        for route, slow in (("/", 1.0), ("/cart", 1.4), ("/checkout", 2.0)):
            points += [
                PointIn("vitals.LCP", rng.lognormvariate(7.4, 0.4) * slow, at, {"route": route}, unit="ms"),
                PointIn("vitals.INP", rng.lognormvariate(4.9, 0.5) * slow, at, {"route": route}, unit="ms"),
                PointIn("vitals.CLS", rng.random() * 0.2 * slow, at, {"route": route}, unit=""),
                PointIn("vitals.FCP", rng.lognormvariate(7.0, 0.4) * slow, at, {"route": route}, unit="ms"),
                PointIn("vitals.TTFB", rng.lognormvariate(6.0, 0.5) * slow, at, {"route": route}, unit="ms"),
            ]
    for minute in range(0, 24 * 60, 5):
        at = now - timedelta(minutes=minute)
        for name in ("GET /cart", "POST /checkout"):
            points.append(
                PointIn(
                    "transaction.duration", rng.lognormvariate(5.3, 0.5), at, {"transaction": name}, unit="millisecond"
                )
            )
            points.append(PointIn("transaction.failed", float(rng.random() < 0.02), at, {"transaction": name}, unit=""))
        for queue in ("emails", "exports"):
            points.append(PointIn("queue.depth", rng.randint(0, 40), at, {"queue": queue}, kind="gauge", unit="jobs"))
    telemetry_ingest(project=shop, points=points)
    while rollups_build():
        pass
    return {"project": shop, "target": checkout, "heartbeat": nightly}


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{base}/admin/")


PAGES = {
    "dashboard": lambda data: "/admin/",
    "target-list": lambda data: "/admin/monitoring/target/",
    "target-page": lambda data: f"/admin/monitoring/target/{data['target'].pk}/change/",
    "heartbeat-page": lambda data: f"/admin/monitoring/target/{data['heartbeat'].pk}/change/",
    "web-vitals": lambda data: "/admin/monitoring/metricseries/web-vitals/",
    "metric-explorer": lambda data: (
        f"/admin/monitoring/metricseries/explorer/?project={data['project'].pk}&name=queue.depth&agg=max&tags=&window=24h"
    ),
}
# Pages whose charts must all hold data on this population (the heartbeat has no response time).
CHARTED = {"dashboard", "target-page", "web-vitals", "metric-explorer"}


def test_every_monitoring_page_draws_its_charts_without_errors_or_sideways_scroll(
    live_server, browser_page, screenshot_path
):
    data = populate()
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, live_server.url)

    for name, path in PAGES.items():
        errors.clear()
        response = page.goto(f"{live_server.url}{path(data)}")
        assert response.status == 200, f"{name}: HTTP {response.status}"
        # Every chart drawn (or refused, which the painted check below reports).
        page.wait_for_function(CHARTS_DRAWN)
        painted = page.evaluate(PAINTED_CANVASES)
        page.screenshot(path=screenshot_path(f"admin-{name}"), full_page=True)
        if name in CHARTED:
            assert painted and all(painted), f"{name}: charts without data points {painted}"
        assert errors == [], f"{name}: console errors {errors}"
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {WIDTH} px"
