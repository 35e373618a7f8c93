"""The rule editor and the channel form in a real browser: every kind edited with its fields,
a channel with its secret's presence and a test sent from its page, and a rule preview drawn
from history. No console error, no sideways scroll at 1400 px. Screenshots go to
tests/e2e/screenshots/ (git-ignored)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import AlertRule, Channel, DeliveryAttempt
from alerts.rules.kinds import RULE_KINDS
from monitoring.models import Flip
from monitoring.projects.services.projects import project_create
from tests.alerts.delivery.sink import serve_sink
from tests.alerts.rules.factories import metric_series
from tests.e2e.test_issue_page import CHART_POINTS, NO_SIDEWAYS_SCROLL
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unguessable-passphrase"


@pytest.fixture
def page(live_server, browser_page):
    """Signed in, at 1400 px, collecting console errors in page.errors."""
    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    browser_page.set_viewport_size({"width": 1400, "height": 900})
    errors: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    browser_page.fill("input[name=username]", "operator")
    browser_page.fill("input[name=password]", PASSWORD)
    browser_page.locator("form [type=submit]").click()
    browser_page.wait_for_url(f"{live_server.url}/admin/")
    browser_page.errors = errors
    browser_page.base = live_server.url
    return browser_page


def looks_right(page, screenshot_path, name: str) -> None:
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at 1400 px"
    page.screenshot(path=screenshot_path(name), full_page=True)
    assert not page.errors, f"console errors on {name}: {page.errors}"


def save(page) -> None:
    page.locator("button[name=_save]").click()
    page.wait_for_load_state()
    errors = page.locator(".errorlist").all_inner_texts()
    assert not errors, f"not saved: {errors}"
    page.wait_for_url("**/admin/alerts/*/")


def test_a_metric_rule_is_filled_in_saved_and_reopened_with_its_values(page, screenshot_path):
    shop = project_create(name="Shop").project
    metric_series(shop, "http.latency", {"route": "/checkout"})
    page.goto(f"{page.base}/admin/alerts/alertrule/add/")

    page.select_option("#id_project", str(shop.pk))  # reloads: the metric box suggests the shop's metrics
    expect(page.locator("#id_param_metric-suggestions option[value='http.latency']")).to_have_count(1)
    page.fill("#id_name", "Checkout slow")
    page.fill("#id_param_metric", "http.latency")
    page.fill("#id_param_tags", "route=/checkout")
    page.select_option("#id_param_agg", "p95")
    page.fill("#id_param_window_minutes", "10")
    page.select_option("#id_param_operator", "gt")
    page.fill("#id_param_threshold", "2000")
    expect(page.locator("#id_param_window_minutes").locator("xpath=..")).to_contain_text("minutes")
    looks_right(page, screenshot_path, "rule-add-metric-1400")
    save(page)

    rule = AlertRule.objects.get(name="Checkout slow")
    assert rule.params["metric"] == "http.latency" and rule.params["tags"] == {"route": "/checkout"}
    assert (rule.params["agg"], rule.params["window_minutes"], rule.params["threshold"]) == ("p95", 10, 2000.0)
    page.goto(f"{page.base}/admin/alerts/alertrule/{rule.pk}/change/")
    expect(page.locator("#id_param_tags")).to_have_value("route=/checkout")
    expect(page.locator("#id_param_threshold")).to_have_value("2000")
    expect(page.locator("#id_param_agg")).to_have_value("p95")
    looks_right(page, screenshot_path, "rule-change-metric-1400")


def test_a_bad_value_shows_on_its_field_and_the_advanced_json_opens_with_its_error(page, screenshot_path):
    shop = project_create(name="Shop").project
    page.goto(f"{page.base}/admin/alerts/alertrule/add/?kind=metric_threshold&project={shop.pk}")
    page.fill("#id_name", "Broken")
    page.fill("#id_param_metric", "cpu")
    page.fill("#id_param_threshold", "80")
    page.fill("#id_param_recovery_threshold", "90")  # on the wrong side of a "> 80" threshold
    save_button = page.locator("button[name=_save]")
    save_button.click()
    expect(page.locator("#id_param_recovery_threshold_error")).to_contain_text("at or below the threshold 80")
    looks_right(page, screenshot_path, "rule-field-error-1400")

    page.fill("#id_param_recovery_threshold", "")
    page.locator("summary", has_text="Advanced: the params as JSON").click()
    page.locator("label[for=id_params_as_json], #id_params_as_json").first.check()
    page.fill("#id_params", '{"metric": "cpu", "threshold": "high"}')
    save_button.click()
    # The section holding the error is shown open, its error on the JSON field.
    expect(page.locator("#id_params_error")).to_be_visible()
    expect(page.locator("#id_params_error")).to_contain_text("threshold: required, as a number")
    assert not AlertRule.objects.exists()


def test_every_kind_is_edited_with_its_own_fields(page, screenshot_path):
    """Choosing each kind in the select shows its fields; its example, saved, reopens the same."""
    shop = project_create(name="Shop").project
    TargetFactory(project=shop, name="storefront")
    HeartbeatFactory(target__project=shop, target__name="nightly-backup")
    page.goto(f"{page.base}/admin/alerts/alertrule/add/?project={shop.pk}")
    for key, kind in RULE_KINDS.items():
        page.select_option("#id_kind", key)  # reloads with the kind's fields
        page.wait_for_url(f"**kind={key}**")
        fields = kind.form_fields(project_id=shop.pk) or {}
        for name in fields:
            expect(page.locator(f"[name=param_{name}]").first).to_be_attached()
        if not fields:
            expect(page.locator("#id_params")).to_be_visible()
        page.fill("#id_name", f"rule {key}")
        if key == "metric_threshold" or "metric" in fields:
            page.fill("#id_param_metric", "http.latency")
        if "threshold" in fields and not page.locator("#id_param_threshold").input_value():
            page.fill("#id_param_threshold", "50")
        looks_right(page, screenshot_path, f"rule-add-{key}-1400")
        save(page)
        rule = AlertRule.objects.get(name=f"rule {key}")
        assert rule.kind == key
        page.goto(f"{page.base}/admin/alerts/alertrule/{rule.pk}/change/")
        expect(page.locator("#id_kind")).to_have_value(key)
        for name, value in kind.form_initial(rule.params).items():
            if name in fields and isinstance(value, str) and value:
                expect(page.locator(f"#id_param_{name}")).to_have_value(value)
        assert not page.errors, page.errors
        page.goto(f"{page.base}/admin/alerts/alertrule/add/?project={shop.pk}")


def test_a_channel_is_made_of_fields_and_sends_a_test_from_its_page(page, screenshot_path, monkeypatch):
    monkeypatch.setenv("LOOKOUT_E2E_SIGNING_SECRET", "s3cr3t-value")
    with serve_sink() as sink:
        page.goto(f"{page.base}/admin/alerts/channel/add/")
        page.fill("#id_name", "orders hook")
        page.select_option("#id_kind", "webhook")  # reloads with the webhook's fields
        page.wait_for_url("**kind=webhook**")
        expect(page.locator("#id_name")).to_have_value("orders hook")
        page.fill("#id_config_url", "ftp://nowhere.example/")
        page.locator("button[name=_save]").click()
        expect(page.locator("#id_config_url_error")).to_contain_text("must be an http or https URL")
        looks_right(page, screenshot_path, "channel-field-error-1400")

        page.fill("#id_config_url", f"{sink.url}/orders")
        page.fill("#id_config_secret_env", "LOOKOUT_E2E_SIGNING_SECRET")
        page.locator("#id_allow_private").check()
        page.locator("button[name=_continue]").click()
        expect(page.locator(".env-presence")).to_be_visible()
        channel = Channel.objects.get()
        page.wait_for_url(f"**/admin/alerts/channel/{channel.pk}/change/**")
        expect(page.locator(".env-presence")).to_have_text("LOOKOUT_E2E_SIGNING_SECRET is set (present) on this server")
        assert "s3cr3t-value" not in page.content()
        looks_right(page, screenshot_path, "channel-change-1400")

        page.locator("#send-test").click()
        expect(page.get_by_text("orders hook: test sent HTTP 200")).to_be_visible()
        assert [r.path for r in sink.requests] == ["/orders"]
        assert DeliveryAttempt.objects.get().ok
        channel.refresh_from_db()
        assert channel.last_delivered_at is not None
        assert not page.errors, page.errors


def test_an_uptime_rule_preview_draws_its_history(page, screenshot_path):
    shop = project_create(name="Shop").project
    store = TargetFactory(project=shop, name="storefront", status="up")
    now = timezone.now()
    for days, minutes in ((5, 90), (2, 40)):
        start = now - timedelta(days=days)
        Flip.objects.create(target=store, at=start, old_status="up", new_status="down", reason="refused")
        Flip.objects.create(target=store, at=start + timedelta(minutes=minutes), old_status="down", new_status="up")
    rule = AlertRule.objects.create(
        name="storefront down", project=shop, kind="target_status", params={"statuses": ["down"]}, for_seconds=0
    )

    page.goto(f"{page.base}/admin/alerts/alertrule/{rule.pk}/preview/")
    expect(page.locator("#preview-count")).to_contain_text("would have fired 2 times in the last 7 days")
    expect(page.locator("figure[data-lookout-chart][data-drawn]")).to_be_visible()
    assert all(n > 0 for n in page.evaluate(CHART_POINTS))
    looks_right(page, screenshot_path, "rule-preview-uptime-1400")
