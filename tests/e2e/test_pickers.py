"""Search pickers in a real browser: a rule's targets and heartbeats, a layer's users and an
override's user are picked by typing part of a name, then saved. The pages list none of the
rows they could pick; the search answers as the user types. And the target form's heartbeat
schedule, which shows only what the chosen kind and schedule use."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import AlertRule, OnCallLayer, OnCallOverride, OnCallSchedule
from monitoring.models import ErrorIssue, Heartbeat, Target
from monitoring.projects.services.projects import project_create
from tests.e2e import test_rule_forms
from tests.e2e.test_rule_forms import looks_right, save
from tests.monitoring.uptime.factories import HeartbeatFactory

page = test_rule_forms.page  # the same signed-in page at 1400 px, collecting console errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick(page, field, typed: str, choice: str) -> None:
    """Open the picker of `field` (its <select> name), type, and click the offered `choice`."""
    page.locator(f"select[name='{field}'] + .select2-container").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=choice).click()


def test_a_rule_picks_its_targets_by_typing(page, screenshot_path):
    shop = project_create(name="Shop").project
    Target.objects.bulk_create(
        Target(project=shop, name=f"service-{n:03}", kind=Target.Kind.HTTP, url=f"https://s{n}.example/")
        for n in range(300)
    )
    HeartbeatFactory(target__project=shop, target__name="nightly-backup")
    page.goto(f"{page.base}/admin/alerts/alertrule/add/?kind=target_status&project={shop.pk}")
    page.fill("#id_name", "Two services down")
    pick(page, "param_target_ids", "ice-04", "service-042")
    pick(page, "param_target_ids", "ice-299", "service-299")
    looks_right(page, screenshot_path, "rule-target-picker-1400")
    save(page)
    rule = AlertRule.objects.get(name="Two services down")
    chosen = Target.objects.filter(name__in=["service-042", "service-299"]).values_list("pk", flat=True)
    assert rule.params["target_ids"] == sorted(chosen)

    page.goto(f"{page.base}/admin/alerts/alertrule/{rule.pk}/change/")
    expect(page.locator(".field-param_target_ids .select2-selection__choice")).to_have_count(2)

    # A heartbeat rule is offered heartbeats only.
    page.goto(f"{page.base}/admin/alerts/alertrule/add/?kind=heartbeat&project={shop.pk}")
    page.locator("select[name='param_target_ids'] + .select2-container").click()
    page.locator(".select2-container--open .select2-search__field").fill("-")  # in every name here
    expect(page.locator(".select2-results__option", has_text="nightly-backup")).to_have_count(1)
    expect(page.locator(".select2-results__option", has_text="service-")).to_have_count(0)
    assert not page.errors, page.errors


def test_an_issue_frequency_rule_picks_its_issues_by_typing(page, screenshot_path):
    shop = project_create(name="Shop").project
    now = timezone.now()
    for n, title in enumerate(["TypeError: basket is undefined", "KeyError: 'sku'", "TimeoutError: checkout"]):
        ErrorIssue.objects.create(project=shop, grouping_hash=f"h{n}", title=title, first_seen=now, last_seen=now)
    page.goto(f"{page.base}/admin/alerts/alertrule/add/?kind=error_frequency&project={shop.pk}")
    page.fill("#id_name", "Basket errors")
    pick(page, "param_issue_ids", "basket", "TypeError: basket is undefined")
    looks_right(page, screenshot_path, "rule-issue-picker-1400")
    save(page)
    rule = AlertRule.objects.get(name="Basket errors")
    assert rule.params["issue_ids"] == [ErrorIssue.objects.get(title__startswith="TypeError").pk]


def test_a_schedule_picks_its_users_by_typing(page, screenshot_path):
    User = get_user_model()
    for name in ("alice", "bob", "carol"):
        User.objects.create_user(name)
    schedule = OnCallSchedule.objects.create(name="Primary", time_zone="Europe/Berlin")
    OnCallLayer.objects.create(
        schedule=schedule, name="weekly", users=["alice"], rotation_seconds=7 * 86400, starts_at=timezone.now()
    )
    page.goto(f"{page.base}/admin/alerts/oncallschedule/{schedule.pk}/change/")
    pick(page, "layers-0-users_1", "BO", "bob")
    # The handoff preview hears the pick: bob now takes a turn.
    expect(page.locator("ol.handoffs")).to_contain_text("bob")

    page.get_by_text("Add another On call override").click()
    pick(page, "overrides-0-user", "car", "carol")
    start = timezone.now() + timedelta(days=1)
    page.fill("input[name='overrides-0-starts_at_0']", f"{start:%Y-%m-%d}")
    page.fill("input[name='overrides-0-starts_at_1']", "09:00:00")
    page.fill("input[name='overrides-0-ends_at_0']", f"{start:%Y-%m-%d}")
    page.fill("input[name='overrides-0-ends_at_1']", "17:00:00")
    looks_right(page, screenshot_path, "schedule-user-pickers-1400")
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/admin/alerts/oncallschedule/")

    assert OnCallLayer.objects.get().users == ["alice", "bob"]
    assert OnCallOverride.objects.get().user.username == "carol"
    page.goto(f"{page.base}/admin/alerts/oncallschedule/{schedule.pk}/change/")
    expect(page.locator("#overrides-group table")).to_be_visible()
    looks_right(page, screenshot_path, "schedule-overrides-1400")  # the table fits: no sideways scroll
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    looks_right(page, screenshot_path, "schedule-overrides-390")


def test_the_heartbeat_schedule_shows_only_what_it_uses(page, screenshot_path):
    shop = project_create(name="Shop").project
    page.goto(f"{page.base}/admin/monitoring/target/add/")
    schedule_box = page.locator("#heartbeat-group")
    page.select_option("select[name=kind]", "http")
    expect(schedule_box).to_be_hidden()  # an http target has no heartbeat schedule

    page.select_option("select[name=kind]", "heartbeat")
    expect(schedule_box).to_be_visible()
    # Nothing is probed: the probe's sections go, headings and all.
    expect(page.locator("fieldset", has=page.locator("[name=url]"))).to_be_hidden()
    expect(page.locator("fieldset", has=page.locator("[name=interval_seconds]"))).to_be_hidden()
    expect(page.locator("[name='heartbeat-0-period_seconds']")).to_be_visible()
    expect(page.locator("[name='heartbeat-0-cron']")).to_be_hidden()
    page.select_option("select[name='heartbeat-0-schedule']", "cron")
    expect(page.locator("[name='heartbeat-0-cron']")).to_be_visible()
    expect(page.locator("[name='heartbeat-0-period_seconds']")).to_be_hidden()

    page.select_option("select[name=project]", str(shop.pk))
    page.fill("input[name=name]", "nightly-backup")
    page.fill("[name='heartbeat-0-cron']", "0 3 * * *")
    looks_right(page, screenshot_path, "heartbeat-schedule-cron-1400")
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/admin/monitoring/target/")
    heartbeat = Heartbeat.objects.get(target__name="nightly-backup")
    assert (heartbeat.schedule, heartbeat.cron) == ("cron", "0 3 * * *")
