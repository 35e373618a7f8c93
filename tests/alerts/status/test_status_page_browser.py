"""A status page with data in real Chromium, on a phone and on a desktop: bars and statuses drawn,
no console error, no request leaving the portal's host, nothing wider than the screen."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import MaintenanceWindow
from alerts.status.models import ComponentStatus, IncidentStatus
from alerts.status.services import component_override_set, public_incident_create, public_incident_update_add
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP
from tests.alerts.status.factories import (
    ComponentFactory,
    ComponentGroupFactory,
    StatusPageFactory,
    daily_rollups,
    probe,
)
from tests.browser import NO_SIDEWAYS_SCROLL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_page_with_data():
    page = StatusPageFactory(slug="acme", title="Acme Cloud", description="Public services of Acme")
    core, edge = ComponentGroupFactory(page=page, name="Core platform"), ComponentGroupFactory(page=page, name="Edge")
    api = ComponentFactory(page=page, group=core, name="Public API")
    db = ComponentFactory(page=page, group=core, name="Database")
    cdn = ComponentFactory(page=page, group=edge, name="CDN")
    jobs = ComponentFactory(page=page, group=edge, name="Nightly export (heartbeat)")
    daily_rollups(api.target, [100.0] * 60 + [99.5] * 2 + [100.0] * 26 + [97.0, 100.0])
    daily_rollups(db.target, [None] * 30 + [99.99] * 60)
    daily_rollups(cdn.target, [99.95] * 90)
    daily_rollups(jobs.target, [100.0] * 90)
    probe(api.target, UP)
    probe(db.target, DEGRADED)
    probe(cdn.target, DOWN)
    probe(jobs.target, UP)
    component_override_set(component=jobs, status=ComponentStatus.OPERATIONAL, note="Runs at 02:00 UTC")
    incident = public_incident_create(
        page=page, name="CDN errors in Europe", body="Investigating 502s.", components=[cdn]
    )
    public_incident_update_add(incident=incident, status=IncidentStatus.IDENTIFIED, body="An edge node failed.")
    MaintenanceWindow.objects.create(
        name="Database upgrade", target=db.target, starts_at=timezone.now() + dt.timedelta(days=1), duration_minutes=90
    )
    return page


@pytest.mark.parametrize("width", [390, 1400])
def test_the_status_page_in_chromium(live_server, browser_page, screenshot_path, width):
    page_model = a_page_with_data()
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    errors, hosts = [], set()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto(f"{live_server.url}/status/{page_model.slug}/")

    expect(page.locator("#page-status")).to_have_text("Major System Outage")
    for name, status in (
        ("Public API", "Operational"),
        ("Database", "Degraded performance"),
        ("CDN", "Major outage"),
        ("Nightly export (heartbeat)", "Operational"),
    ):
        row = page.locator(".component", has_text=name)
        expect(row.locator(".status")).to_have_text(status)
        expect(row.locator(".bar span")).to_have_count(90)
        # Every day is drawn: a box with a size, and a tooltip saying what it was.
        box = row.locator(".bar span").last.bounding_box()
        assert box and box["width"] > 1 and box["height"] > 10
        assert row.locator(".bar span").last.get_attribute("title")
    expect(page.locator(".component", has_text="Public API").locator(".bar span.down")).to_have_count(1)
    expect(page.get_by_text("An edge node failed.")).to_be_visible()
    expect(page.get_by_text("Database upgrade")).to_be_visible()
    expect(page.get_by_text("Runs at 02:00 UTC")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=screenshot_path(f"status-page-{width}"), full_page=True)

    assert errors == []
    assert hosts == {urlsplit(live_server.url).netloc}
