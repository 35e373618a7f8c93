"""An incident, the maintenance calendar, a schedule and the on-call pages in a real browser, on
a project with a down target, a silenced incident, recurring windows and a rotation.

`populate()` is also what a person runs to look at these pages by hand (see the module's end).
"""

import re
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from alerts.incidents.services.incidents import alerts_receive
from alerts.incidents.services.noise import silence_create
from alerts.models import MaintenanceWindow, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.paging.services.schedules import layer_handoffs
from monitoring.models import Target
from monitoring.projects.services.projects import project_create
from tests.alerts.incidents.factories import RuleFactory, firing
from tests.browser import NO_SIDEWAYS_SCROLL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unguessable-passphrase"


def populate() -> dict:
    """A shop whose storefront is down (paging), whose API is down under a silence (muted), with an
    hourly log-rotation window for billing, a weekly database window that pauses checks, and a weekly rotation."""
    User = get_user_model()
    operator = User.objects.filter(username="operator").first() or User.objects.create_superuser(
        "operator", "operator@example.com", PASSWORD
    )
    for name in ("alice", "bob", "carol"):
        User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
    project = project_create(name="Shop").project
    storefront = Target.objects.create(
        project=project,
        kind="http",
        name="storefront",
        url="http://127.0.0.1:8199/",
        status="down",
        status_changed_at=timezone.now(),
    )
    api = Target.objects.create(project=project, kind="http", name="api", url="http://127.0.0.1:8198/", status="down")
    now = timezone.now()
    rule = RuleFactory(name="Storefront down", kind="target_status", project=project)
    labels = {"project": project.slug, "target": "storefront", "target_id": str(storefront.pk)}
    (live,) = alerts_receive(
        signals=[
            firing(
                rule,
                severity="high",
                labels=labels,
                project_id=project.pk,
                summary="storefront down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)",
                at=now - timedelta(minutes=12),
            )
        ],
        now=now - timedelta(minutes=12),
    )
    api_rule = RuleFactory(name="API down", kind="target_status", project=project)
    silence_create(
        matchers=f'{{target="api", project="{project.slug}"}}',
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        created_by=operator,
        comment="migrating the API database",
    )
    (muted,) = alerts_receive(
        signals=[
            firing(
                api_rule,
                fingerprint="fp-api",
                severity="critical",
                labels={"project": project.slug, "target": "api", "target_id": str(api.pk)},
                project_id=project.pk,
                summary="api down: timed out after 10 s (2 of 2 probes failed)",
                at=now - timedelta(minutes=40),
            )
        ],
        now=now - timedelta(minutes=40),
    )
    # Another project's hourly window, so the storefront's incident stays live whatever the minute.
    billing = project_create(name="Billing").project
    midnight = datetime.combine(
        timezone.localdate() - timedelta(days=40), time(), tzinfo=timezone.get_current_timezone()
    )
    MaintenanceWindow.objects.create(
        name="log rotation",
        project=billing,
        recurrence="cron",
        expression="0 * * * *",
        starts_at=midnight,
        duration_minutes=10,
        effect="mute",
        created_by=operator,
    )
    MaintenanceWindow.objects.create(
        name="database vacuum",
        target=api,
        recurrence="cron",
        expression="0 3 * * SUN",
        time_zone="Europe/Berlin",
        starts_at=midnight,
        duration_minutes=90,
        effect="pause",
        created_by=operator,
    )
    schedule = OnCallSchedule.objects.create(name="Primary", time_zone="Europe/Berlin")
    OnCallLayer.objects.create(
        schedule=schedule,
        name="weekly",
        users=["alice", "bob", "carol"],
        starts_at=midnight + timedelta(hours=8),
        rotation_seconds=7 * 86400,
    )
    OnCallOverride.objects.create(
        schedule=schedule,
        user=User.objects.get(username="carol"),
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=8),
    )
    return {"live": live, "muted": muted, "storefront": storefront, "schedule": schedule}


def _log_in(page, url):
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{url}/admin/")


@pytest.fixture
def seen(live_server, browser_page):
    """A signed-in page on the populated portal, and every console error it logs."""
    data = populate()
    errors: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.set_viewport_size({"width": 1400, "height": 900})
    _log_in(browser_page, live_server.url)
    return browser_page, live_server.url, data, errors


def test_an_incident_page_links_to_its_target_and_a_muted_one_says_why(seen, screenshot_path):
    page, url, data, errors = seen
    page.goto(f"{url}/admin/alerts/incident/")
    muted_row = page.locator("tr", has_text="api down")
    expect(muted_row.locator(".muted-badge")).to_have_text("muted")
    expect(muted_row).to_contain_text("migrating the API database")
    expect(page.locator("tr", has_text="storefront down").locator(".muted-badge")).to_have_count(0)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the incident list scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("incident-list-1400"), full_page=True)

    page.goto(f"{url}/admin/alerts/incident/{data['live'].pk}/change/")
    expect(page.locator("#incident-title")).to_contain_text("storefront down: connection refused to 127.0.0.1:8199")
    expect(page.locator('[data-field="severity"]')).to_have_text("high")
    page.screenshot(path=screenshot_path("incident-page-1400"), full_page=True)
    page.locator('#incident-sources [data-source="target"]').click()
    page.wait_for_url(f"{url}/admin/monitoring/target/{data['storefront'].pk}/change/")

    page.goto(f"{url}/admin/alerts/incident/{data['muted'].pk}/change/")
    expect(page.locator("[data-muted]")).to_be_visible()
    expect(page.locator('[data-field="mute-reason"]')).to_contain_text("migrating the API database")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the incident page scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("incident-muted-1400"), full_page=True)
    assert errors == []


def test_the_maintenance_calendar_shows_scope_and_mode_by_month_and_week(seen, screenshot_path):
    page, url, _, errors = seen
    page.goto(f"{url}/admin/alerts/maintenancewindow/calendar/")
    today = page.locator(".day.today")
    # The hourly window is one line on the day, with its count, not 24 rows.
    expect(today.locator(".entry", has_text="log rotation")).to_have_count(1)
    expect(today.locator(".entry", has_text="log rotation")).to_contain_text("24× 10 min")
    expect(today.locator(".entry", has_text="log rotation")).to_contain_text("everything in project Billing")
    expect(page.locator(".entry.pause", has_text="database vacuum").first).to_contain_text("target api")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the calendar scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("maintenance-month-1400"), full_page=True)

    page.get_by_role("link", name="Week", exact=True).click()
    expect(page.locator("#maintenance-calendar")).to_have_attribute("data-view", "week")
    expect(page.locator(".day")).to_have_count(7)
    expect(page.locator(".entry", has_text="database vacuum")).to_have_count(1)
    page.screenshot(path=screenshot_path("maintenance-week-1400"), full_page=True)

    # A new window: only the chosen scope's picker shows, and leaving it empty is an error on it.
    page.get_by_role("link", name="+ Add a window").click()
    expect(page.locator(".field-project, .field-target, .field-tag").filter(visible=True)).to_have_count(0)
    page.get_by_label("Everything in one project (its targets, rules and issues)").check()
    expect(page.locator('select[name="project"]')).to_be_visible()
    expect(page.locator('select[name="target"]')).to_be_hidden()
    page.fill('input[name="name"]', "quarterly failover")
    page.fill('input[name="starts_at_0"]', "2026-12-24")
    page.fill('input[name="starts_at_1"]', "22:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Pick the project this window covers")).to_be_visible()
    page.screenshot(path=screenshot_path("maintenance-form-error-1400"), full_page=True)
    assert not MaintenanceWindow.objects.filter(name="quarterly failover").exists()
    assert errors == []


def test_the_schedule_form_picks_users_and_previews_handoffs(seen, screenshot_path):
    page, url, data, errors = seen
    page.goto(f"{url}/admin/alerts/oncallschedule/{data['schedule'].pk}/change/")
    expect(page.locator('select[name="layers-0-users_0"]')).to_have_value("alice")
    expect(page.locator('select[name="layers-0-users_2"]')).to_have_value("carol")
    expect(page.locator('input[name="layers-0-rotation_every"]')).to_have_value("7")
    expect(page.locator('select[name="layers-0-rotation_unit"]')).to_have_value("days")
    # Hints are text on the page, not behind an icon.
    expect(page.get_by_text("The first takes the first turn from the start").first).to_be_visible()
    handoffs = page.locator("ol.handoffs li")
    expect(handoffs).to_have_count(5)
    expect(handoffs.first).to_contain_text(re.compile(r"\d\d:\d\d CES?T → alice|bob|carol"))
    expect(page.locator('select[name="overrides-0-user"]')).to_have_value(
        str(get_user_model().objects.get(username="carol").pk)
    )
    page.screenshot(path=screenshot_path("schedule-form-1400"), full_page=True)

    # Changed on the form, not saved: the preview follows, as the schedule will compute it.
    before = handoffs.first.inner_text()
    page.locator('input[name="layers-0-rotation_every"]').fill("12")
    page.locator('select[name="layers-0-rotation_unit"]').select_option("hours", force=True)
    expect(handoffs.first).not_to_have_text(before)
    layer = data["schedule"].layers.get()
    layer.rotation_seconds = 12 * 3600
    [first, *_] = layer_handoffs(layer=layer, time_zone="Europe/Berlin", start=timezone.now(), count=1)
    local = timezone.localtime(first.at, zoneinfo.ZoneInfo("Europe/Berlin"))
    expect(handoffs.first).to_have_text(f"{dateformat.format(local, 'D j M Y H:i T')} → {first.username}")
    assert errors == []


@pytest.mark.parametrize("width", [390, 1400])
def test_the_on_call_pages_fit_a_phone_and_show_muted_incidents_as_muted(seen, screenshot_path, width):
    page, url, data, errors = seen
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto(f"{url}/oncall/")
    muted = page.locator("tr", has_text="api down")
    expect(muted.locator("[data-muted]")).to_be_visible()
    expect(muted).to_contain_text("migrating the API database")
    # A muted incident pages nobody: its button says so; the live one is a plain Acknowledge.
    expect(muted.get_by_role("button", name="Acknowledge anyway")).to_be_visible()
    live = page.locator("tr", has_text="storefront down")
    expect(live.get_by_role("button", name="Acknowledge", exact=True)).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"/oncall/ scrolls sideways at {width} px"
    page.screenshot(path=screenshot_path(f"oncall-team-{width}"), full_page=True)

    page.goto(f"{url}/oncall/incidents/{data['muted'].pk}")
    expect(page.locator("[data-muted]")).to_be_visible()
    expect(page.locator("#incident-sources")).to_contain_text("api")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"the on-call incident page scrolls sideways at {width} px"
    page.screenshot(path=screenshot_path(f"oncall-incident-{width}"), full_page=True)

    page.goto(f"{url}/oncall/mine")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"/oncall/mine/ scrolls sideways at {width} px"
    assert errors == []
