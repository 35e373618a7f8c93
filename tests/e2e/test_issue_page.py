"""The issue stream and an issue page in a real browser, on a few issues with events over days."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from monitoring.models import ErrorIssue, ErrorIssueActivity
from monitoring.projects.services.projects import project_create
from tests.browser import NO_SIDEWAYS_SCROLL
from tests.e2e.issue_pages_data import TRANSACTIONS, populate_issues, populate_transactions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unguessable-passphrase"


def _populate():
    project = project_create(name="Checkout service").project
    populate_transactions(project)
    return populate_issues(project)


# Every chart of the page drawn by charts.js, each with at least one point holding a value.
CHART_POINTS = """() => [...document.querySelectorAll('figure[data-lookout-chart]')].map(f => f.lookoutChart
  ? f.lookoutChart.data.datasets.reduce((n, d) => n + d.data.filter(p => p.y !== null && p.y !== undefined).length, 0)
  : -1)"""


def _log_in(page, url, then):
    # Straight to the stream: the dashboard is another page, tested on its own.
    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    page.goto(f"{url}/admin/login/?next={then}")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{url}{then}")


def test_the_stream_fits_1400_px_and_the_page_resolves_and_moves_between_events(
    live_server, browser_page, screenshot_path
):
    issue = _populate()
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1400, "height": 900})
    _log_in(page, live_server.url, "/admin/monitoring/errorissue/")

    expect(page.locator("figure[data-lookout-chart][data-drawn]").first).to_be_visible()
    drawn = page.evaluate(CHART_POINTS)
    assert drawn and all(n > 0 for n in drawn), f"sparklines without points: {drawn}"
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the issue stream scrolls sideways at 1400 px"
    expect(page.locator("tr", has_text="KeyError")).to_contain_text("30")
    page.screenshot(path=screenshot_path("issue-stream-1400"), full_page=True)

    page.goto(f"{live_server.url}/admin/monitoring/errorissue/{issue.pk}/change/")
    for box in ("#issue-sparkline-24h", "#issue-sparkline-14d"):
        expect(page.locator(f"{box} figure[data-drawn]")).to_be_visible()
    assert all(n > 0 for n in page.evaluate(CHART_POINTS))
    expect(page.locator('#issue-tags [data-tag="browser"]')).to_contain_text("Chrome 120")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the issue page scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("issue-page-1400"), full_page=True)
    page.locator("#issue-header").screenshot(path=screenshot_path("issue-page-header-1400"))

    # The event happened in a recorded transaction: its performance page and its trace are one
    # click away.
    expect(page.locator('#event-trace a[title="this transaction\'s performance"]')).to_have_text("POST /checkout")
    expect(page.locator("#event-trace-link")).to_have_attribute("href", re.compile(r"^/traces/[0-9a-f]{32}/$"))
    shown = page.locator("#event-id").inner_text()
    page.locator('[data-nav="older"]').click()
    expect(page.locator("#event-id")).not_to_have_text(shown)
    page.locator('[data-nav="newer"]').click()
    expect(page.locator("#event-id")).to_have_text(shown)

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#issue-status")).to_have_text("Resolved")
    issue.refresh_from_db()
    assert issue.status == ErrorIssue.Status.RESOLVED
    assert ErrorIssueActivity.objects.get(issue=issue).actor.username == "operator"
    assert errors == []


def test_the_performance_view_and_a_transaction_draw_their_charts_at_1400_px(
    live_server, browser_page, screenshot_path
):
    _populate()
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1400, "height": 900})
    _log_in(page, live_server.url, "/admin/monitoring/errorissue/performance/")

    expect(page.locator("#transactions tbody tr")).to_have_count(len(TRANSACTIONS))
    expect(page.locator('[data-chart="duration"] figure[data-drawn]')).to_be_visible()
    drawn = page.evaluate(CHART_POINTS)
    assert len(drawn) == 3 and all(n >= 20 for n in drawn), drawn  # about one point an hour
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the performance view scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("performance-1400"), full_page=True)

    page.get_by_role("link", name="POST /api/payments/authorize").click()
    expect(page.locator("#transaction-name")).to_have_text("POST /api/payments/authorize")
    expect(page.locator('[data-figure="failure-rate"] dd').first).not_to_have_text("—")
    expect(page.locator('[data-chart="failure-rate"] figure[data-drawn]')).to_be_visible()
    assert all(n >= 20 for n in page.evaluate(CHART_POINTS))
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "a transaction's page scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("transaction-1400"), full_page=True)

    page.select_option("#id_window", "7d")
    expect(page).to_have_url(re.compile(r"window=7d"))
    expect(page.locator('[data-chart="throughput"] figure[data-drawn]')).to_be_visible()
    assert errors == []
