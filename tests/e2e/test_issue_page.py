"""The issue stream and an issue page in a real browser, on a few issues with events over days."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.errors.services.issues import error_issues_fold_pending
from monitoring.models import ErrorIssue, ErrorIssueActivity
from monitoring.projects.services.projects import project_create
from tests.monitoring.errors.factories import store_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unguessable-passphrase"
# The page itself, and any box inside it that scrolls on its own (unfold wraps the changelist
# table in one), must be no wider than what shows.
NO_SIDEWAYS_SCROLL = """() => [document.documentElement, ...document.querySelectorAll('*')].every(e => {
  const overflow = getComputedStyle(e).overflowX;
  const scrolls = e === document.documentElement || overflow === 'auto' || overflow === 'scroll';
  return !scrolls || e.scrollWidth <= e.clientWidth + 1;
})"""


def _populate():
    project = project_create(name="Checkout service").project
    now = timezone.now()
    contexts = {"browser": {"name": "Chrome", "version": "120"}, "os": {"name": "Linux"}}
    for n in range(30):
        issue = store_event(
            project,
            message="KeyError: 'total' in a long title that keeps going so the stream has to cut it somewhere sensible",
            release=f"shop@1.{n % 3}",
            environment="production",
            contexts=contexts,
            user={"id": f"user-{n % 7}"},
            request={"url": f"https://shop.example/cart/{n % 4}", "method": "POST"},
            received_at=now - timedelta(hours=n * 9),
        )
    for n in range(12):
        store_event(
            project, message=f"TimeoutError talking to payments gateway {n}", received_at=now - timedelta(days=n)
        )
    error_issues_fold_pending()  # the counters, as the sweep would have them by now
    return issue


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

    expect(page.locator("svg.sparkline").first).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the issue stream scrolls sideways at 1400 px"
    expect(page.locator("tr", has_text="KeyError")).to_contain_text("30")
    page.screenshot(path=screenshot_path("issue-stream-1400"), full_page=True)

    page.goto(f"{live_server.url}/admin/monitoring/errorissue/{issue.pk}/change/")
    for box in ("#issue-sparkline-24h", "#issue-sparkline-14d"):
        points = page.locator(f"{box} polyline").get_attribute("points")
        assert points and len(points.split()) >= 2
    expect(page.locator('#issue-tags [data-tag="browser"]')).to_contain_text("Chrome 120")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the issue page scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path("issue-page-1400"), full_page=True)
    page.locator("#issue-header").screenshot(path=screenshot_path("issue-page-header-1400"))

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
