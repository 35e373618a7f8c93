"""A visitor subscribes to a status page in real Chromium, confirms from the mail, hears of
an incident update, and leaves by the link in that mail: the whole way without JavaScript."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Subscriber
from alerts.status.models import IncidentStatus
from alerts.status.services import public_incident_create, public_incident_update_add
from alerts.status.subscribers import notices_deliver_due
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory
from tests.browser import NO_SIDEWAYS_SCROLL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def link(message, part):
    return next(url for url in re.findall(r"http://\S+", message.body) if part in url)


@pytest.mark.parametrize("width", [390, 1400])
def test_subscribe_confirm_hear_an_update_and_unsubscribe(live_server, browser_page, screenshot_path, settings, width):
    settings.SITE_URL = live_server.url
    status_page = StatusPageFactory(slug="acme", title="Acme Cloud")
    api = ComponentFactory(page=status_page, name="Public API")
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/status/acme/")
    assert page.locator("script").count() == 0  # a plain form: works without JavaScript
    page.get_by_label("Email address").fill("ana@example.com")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#result")).to_contain_text("a confirmation link is on its way")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=screenshot_path(f"status-subscribe-{width}"), full_page=True)

    notices_deliver_due(now=timezone.now())
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    page.goto(link(mail.outbox[0], "/subscribe/confirm/"))
    expect(page.locator("#result")).to_contain_text("Email ana@example.com about incidents")
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.locator("#result")).to_contain_text("ana@example.com will hear about incidents")
    assert Subscriber.objects.get().confirmed_at is not None

    incident = public_incident_create(page=status_page, name="API errors", body="Investigating.", components=[api])
    public_incident_update_add(incident=incident, status=IncidentStatus.IDENTIFIED, body="A bad deploy, rolling back.")
    notices_deliver_due(now=timezone.now())
    update_mail = mail.outbox[-1]
    assert update_mail.subject == "[Acme Cloud] API errors: Identified"
    assert "A bad deploy, rolling back." in update_mail.body

    page.goto(link(update_mail, "/unsubscribe/"))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#result")).to_contain_text("will hear nothing more from Acme Cloud")
    assert not Subscriber.objects.exists()

    told = len(mail.outbox)
    public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    notices_deliver_due(now=timezone.now())
    assert len(mail.outbox) == told
    assert errors == []
