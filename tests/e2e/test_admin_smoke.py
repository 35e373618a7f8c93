"""Smoke test in a real browser: an operator signs in and finds a project's DSN."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from monitoring.projects.services.projects import project_create

pytestmark = pytest.mark.browser

PASSWORD = "a-long-and-unguessable-passphrase"


def test_operator_logs_in_and_sees_the_project_dsn(live_server, browser_page, screenshot_path):
    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    dsn = project_create(name="Checkout service").project.dsn
    page = browser_page

    page.goto(f"{live_server.url}/admin/")
    # Not signed in yet, so the admin sends the browser to its login form.
    assert "/admin/login/" in page.url
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")

    projects = page.locator("#projects-panel")
    expect(projects.get_by_role("link", name="Checkout service")).to_be_visible()
    expect(projects.get_by_text(dsn, exact=True)).to_be_visible()
    page.screenshot(path=screenshot_path("admin-dashboard"), full_page=True)


def test_a_wrong_password_keeps_the_operator_out(live_server, browser_page):
    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "not-the-passphrase")
    page.locator("form [type=submit]").click()

    expect(page.get_by_text("Please enter the correct username and password")).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
