"""The target list and page in the admin: fast at any size, bulk actions, field errors."""

import datetime as dt
import html
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Flip, Heartbeat, ProbeResult, Status, Tag, Target, TargetRollup, TargetRollupCursor
from monitoring.uptime.probes.base import DOWN, UP, ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.services.results import probe_results_record
from monitoring.uptime.services.rollups import floor_time, latency_bucket, rollups_advance
from tests.factories import ProjectFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:monitoring_target_changelist")


def changelist_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return len(queries)


def test_the_list_query_count_does_not_grow_with_the_page(admin_client):
    project = ProjectFactory()
    tag = Tag.objects.create(name="shop")
    TargetFactory.create_batch(5, project=project)[0].tags.add(tag)
    changelist_queries(admin_client)  # the first request fills per-process caches (status page domains)
    few = changelist_queries(admin_client)
    more = TargetFactory.create_batch(
        95, project=project, cert_expires_at=timezone.now() + dt.timedelta(days=9), last_latency_ms=42
    )
    hour = floor_time(timezone.now() - dt.timedelta(hours=1), 3600)
    TargetRollup.objects.bulk_create(
        TargetRollup(
            target_id=t.pk,
            resolution=resolution,
            bucket_start=floor_time(hour, resolution),
            count=10,
            up_count=9,
            degraded_count=0,
            latency_count=9,
            latency_sum=900,
            latency_min=100,
            latency_max=100,
            histogram={str(latency_bucket(100)): 9},
        )
        for t in more
        for resolution in (3600, 86400)
    )
    many = changelist_queries(admin_client)
    assert many == few
    assert changelist_queries(admin_client, status="up", tags__id__exact=tag.pk) <= few


def test_the_list_shows_status_uptime_p95_latency_and_certificate_days(admin_client):
    target = TargetFactory(
        name="Checkout",
        status=Status.DOWN,
        last_checked_at=timezone.now() - dt.timedelta(minutes=1),
        last_latency_ms=230,
        cert_expires_at=timezone.now() + dt.timedelta(days=12, hours=1),
    )
    hour = floor_time(timezone.now() - dt.timedelta(hours=2), 3600)
    TargetRollup.objects.create(
        target_id=target.pk,
        resolution=3600,
        bucket_start=hour,
        count=200,
        up_count=199,
        degraded_count=0,
        latency_count=199,
        latency_sum=199 * 80,
        latency_min=80,
        latency_max=80,
        histogram={str(latency_bucket(80)): 199},
    )
    TargetRollup.objects.create(
        target_id=target.pk,
        resolution=86400,
        bucket_start=floor_time(hour, 86400) - dt.timedelta(days=3),
        count=100,
        up_count=50,
        degraded_count=0,
        latency_count=0,
        latency_sum=0,
        histogram={},
    )
    # Days are rolled up to two days ago, hours to the one above: 30 d reads both layers.
    TargetRollupCursor.objects.create(resolution=86400, done_until=floor_time(hour, 86400) - dt.timedelta(days=2))
    TargetRollupCursor.objects.create(resolution=3600, done_until=hour + dt.timedelta(hours=1))
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Checkout" in page and "230 ms" in page and "12 days" in page and ">down<" in page
    assert "99.50 %" in page and "83.00 %" in page and "80 ms" in page


def test_uptime_is_shown_minutes_after_the_first_probes(admin_client):
    target = TargetFactory(name="Fresh")
    now = timezone.now()
    ProbeResult.objects.bulk_create(
        ProbeResult(target_id=target.pk, checked_at=now - dt.timedelta(minutes=m), outcome=UP, latency_ms=120)
        for m in range(3, 13)
    )
    rollups_advance(now=now)

    page = admin_client.get(CHANGELIST).content.decode()

    assert page.count("100.00 %") == 2  # 24 h and 30 d, from minute rollups of the open hour
    assert "120 ms" in page


def test_filters_by_project_status_and_tag(admin_client):
    shop = ProjectFactory(name="Shop")
    tag = Tag.objects.create(name="payments")
    payments = TargetFactory(project=shop, name="Payments API", status=Status.DOWN)
    payments.tags.add(tag)
    TargetFactory(name="Blog", status=Status.UP)
    assert "Blog" not in admin_client.get(CHANGELIST, {"project__id__exact": shop.pk}).content.decode()
    assert "Blog" not in admin_client.get(CHANGELIST, {"status": "down"}).content.decode()
    by_tag = admin_client.get(CHANGELIST, {"tags__id__exact": tag.pk}).content.decode()
    assert "Payments API" in by_tag and "Blog" not in by_tag


def test_bulk_pause_resume_and_check_now(admin_client):
    targets = TargetFactory.create_batch(3, status=Status.UP, next_run_at=timezone.now() + dt.timedelta(hours=1))
    ids = [t.pk for t in targets[:2]]
    admin_client.post(CHANGELIST, {"action": "pause", "_selected_action": ids})
    assert set(Target.objects.filter(paused=True).values_list("pk", flat=True)) == set(ids)
    assert Flip.objects.filter(new_status=Status.PAUSED, reason="paused by admin").count() == 2
    admin_client.post(CHANGELIST, {"action": "resume", "_selected_action": ids})
    assert not Target.objects.filter(paused=True).exists()
    assert Target.objects.get(pk=ids[0]).status == Status.UNKNOWN
    before = timezone.now()
    admin_client.post(CHANGELIST, {"action": "check_now", "_selected_action": [targets[2].pk]})
    assert Target.objects.get(pk=targets[2].pk).next_run_at <= timezone.now()
    assert Target.objects.get(pk=targets[2].pk).next_run_at >= before


def form_data(project, **overrides):
    data = {
        "project": project.pk,
        "name": "Shop",
        "kind": "http",
        "url": "https://shop.example/health",
        "interval_seconds": 60,
        "timeout_seconds": 10,
        "regions": ["local"],
        "down_after_failures": 2,
        "up_after_successes": 1,
        "method": "GET",
        "headers": "{}",
        "auth_kind": "",
        "accepted_statuses": "200-399",
        "follow_redirects": "on",
        "max_redirects": 5,
        "verify_tls": "on",
        "keyword_mode": "present",
        "dns_record_type": "A",
        "dns_expected": "[]",
        "dns_resolver_port": 53,
        "tls_warn_days": "[30, 14, 7]",
        "heartbeat-TOTAL_FORMS": 0,
        "heartbeat-INITIAL_FORMS": 0,
        "heartbeat-MIN_NUM_FORMS": 0,
        "heartbeat-MAX_NUM_FORMS": 1,
    }
    data.update(overrides)
    return data


def test_a_valid_target_is_created(admin_client):
    project = ProjectFactory()
    response = admin_client.post(reverse("admin:monitoring_target_add"), form_data(project))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Target.objects.get().url == "https://shop.example/health"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://shop.example/"),
        ("url", "not a url"),
        ("interval_seconds", 5),
        ("accepted_statuses", "200-99"),
        ("new_regions", "EU West"),
        ("headers", '{"Bad Header": "x"}'),
        ("auth_secret_env", "my token"),
    ],
)
def test_bad_fields_are_refused_with_a_field_error(admin_client, field, value):
    project = ProjectFactory()
    response = admin_client.post(reverse("admin:monitoring_target_add"), form_data(project, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Target.objects.exists()


def test_regions_are_chosen_from_those_in_use_or_named_anew(admin_client):
    project = ProjectFactory()
    TargetFactory(regions=["local", "eu-west"])

    form = admin_client.get(reverse("admin:monitoring_target_add")).context["adminform"].form
    assert [value for value, _ in form.fields["regions"].choices] == ["eu-west", "local"]
    response = admin_client.post(
        reverse("admin:monitoring_target_add"),
        form_data(project, name="Multi", regions=["eu-west"], new_regions="us-east, ap-south"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Target.objects.get(name="Multi").regions == ["eu-west", "us-east", "ap-south"]


def test_a_heartbeat_page_shows_its_ping_url_first_and_its_next_five_pings(admin_client):
    heartbeat = HeartbeatFactory(schedule="cron", cron="0 3 * * *", time_zone="Europe/Berlin")

    page = admin_client.get(reverse("admin:monitoring_target_change", args=[heartbeat.target_id])).content.decode()

    url = f"/ping/{heartbeat.ping_key}"
    assert url in page and page.index(url) < page.index('name="name"')  # above the form's fields
    assert 'class="lookout-copy' in page
    assert page.count("03:00 (Europe/Berlin)") == 5


def heartbeat_data(**fields):
    data = {
        "heartbeat-TOTAL_FORMS": 1,
        "heartbeat-INITIAL_FORMS": 0,
        "heartbeat-0-schedule": "cron",
        "heartbeat-0-cron": "0 3 * * *",
        "heartbeat-0-time_zone": "Europe/Berlin",
        "heartbeat-0-period_seconds": 86400,
        "heartbeat-0-grace_seconds": 3600,
    }
    data.update({f"heartbeat-0-{k}": v for k, v in fields.items()})
    return data


def test_a_heartbeat_with_a_cron_schedule_is_created(admin_client):
    project = ProjectFactory()
    response = admin_client.post(
        reverse("admin:monitoring_target_add"), form_data(project, kind="heartbeat", url="", **heartbeat_data())
    )
    assert response.status_code == 302
    assert Heartbeat.objects.get().cron == "0 3 * * *"


@pytest.mark.parametrize(("field", "value"), [("cron", "0 25 * * *"), ("time_zone", "Europe/Atlantis")])
def test_a_bad_cron_or_time_zone_is_a_field_error(admin_client, field, value):
    project = ProjectFactory()
    response = admin_client.post(
        reverse("admin:monitoring_target_add"),
        form_data(project, kind="heartbeat", url="", **heartbeat_data(**{field: value})),
    )
    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert field in inline.formset.forms[0].errors
    assert not Target.objects.exists()


def test_the_target_page_shows_its_flips(admin_client):
    target = TargetFactory()
    Flip.objects.create(
        target=target,
        at=timezone.now(),
        old_status="up",
        new_status="down",
        reason="down after 2 consecutive failures in local",
    )
    page = admin_client.get(reverse("admin:monitoring_target_change", args=[target.pk])).content.decode()
    assert "down after 2 consecutive failures in local" in page


def test_the_target_page_shows_a_90_day_bar_and_a_response_time_chart(admin_client):
    target = TargetFactory()
    yesterday = floor_time(timezone.now(), 86400) - dt.timedelta(days=1)
    TargetRollup.objects.create(
        target_id=target.pk,
        resolution=86400,
        bucket_start=yesterday,
        count=1000,
        up_count=990,
        degraded_count=0,
        latency_count=990,
        latency_sum=990 * 120,
        latency_min=100,
        latency_max=300,
        histogram={str(latency_bucket(120)): 990},
    )
    now = timezone.now()
    for minutes_ago, latency in ((50, 120), (20, 900)):
        TargetRollup.objects.create(
            target_id=target.pk,
            resolution=60,
            bucket_start=floor_time(now - dt.timedelta(minutes=minutes_ago), 60),
            count=1,
            up_count=1,
            degraded_count=0,
            latency_count=1,
            latency_sum=latency,
            latency_min=latency,
            latency_max=latency,
            histogram={str(latency_bucket(latency)): 1},
        )
    Flip.objects.create(
        target=target, at=now - dt.timedelta(minutes=30), old_status="up", new_status="down", reason="x"
    )
    response = admin_client.get(reverse("admin:monitoring_target_change", args=[target.pk]))
    page = response.content.decode()
    assert page.count('class="rounded-sm" style="flex: 1;') == 90
    assert f"{yesterday:%Y-%m-%d}: 99.000 % of 1000 probes" in page
    assert "no data" in page  # the days before the target existed, and the legend names that colour
    chart = _chart_in(page)
    values = [v for s in chart["series"] for _, v in s["points"] if v is not None]
    assert max(values) == pytest.approx(900, rel=0.1)  # read back from its log histogram bucket
    assert [m["label"] for m in chart["markers"]] == ["down"]
    assert chart["y"]["label"] == "Response time (ms)"


def test_the_target_page_reads_its_history_once_whatever_its_size(admin_client, django_assert_max_num_queries):
    """The history, the flips and the region choices are each read once: the form template
    asks for a read-only field's contents several times, and every ask used to query again."""
    target = TargetFactory(regions=["local", "eu-west"])
    TargetFactory.create_batch(3, regions=["us-east"])
    url = reverse("admin:monitoring_target_change", args=[target.pk])
    admin_client.get(url)  # the first request fills per-process caches
    now = timezone.now()
    Flip.objects.bulk_create(
        Flip(target=target, at=now - dt.timedelta(minutes=m), old_status="up", new_status="down", reason=f"flip {m}")
        for m in range(60)
    )
    ProbeResult.objects.bulk_create(
        ProbeResult(target=target, checked_at=now - dt.timedelta(minutes=m), outcome=UP, latency_ms=90)
        for m in range(120)
    )
    # Session, user, target, tags, region choices, 90 days, 24 h of minutes, flips, the newest
    # result of each of the two regions, the project choices.
    with django_assert_max_num_queries(11):
        page = admin_client.get(url).content.decode()
    assert "flip 0" in page and "flip 49" in page and "flip 50" not in page
    assert 'value="us-east"' in page


def test_the_target_page_shows_each_regions_status_and_last_result_a_silent_one_as_unknown(admin_client):
    """Issue 17 item 5: a region whose worker stopped reads as unknown and silent on the target
    page, not as the "up" it last reported, while the live region shows its own failure."""
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(minutes=10), tick=False):
        target = TargetFactory(regions=["local", "eu"], interval_seconds=60, down_after_failures=1, quorum=None)
    # eu last reported five minutes ago, past two intervals: silent. local reports now, failing.
    for region, outcome, at, error in (
        ("eu", UP, now - dt.timedelta(minutes=5), ""),
        ("local", DOWN, now, "connection refused"),
    ):
        with time_machine.travel(at, tick=False):
            probe_results_record(region=region, probed=[Probed(target.pk, at, ProbeOutcome(outcome, 20, error=error))])

    page = admin_client.get(reverse("admin:monitoring_target_change", args=[target.pk])).content.decode()

    rows = {cells[0]: cells[1:] for cells in _table_rows(page, "target-regions")}
    assert set(rows) == {"local", "eu"}
    assert rows["eu"][0] == "unknown (silent)"
    assert rows["eu"][1] == "up, 5 minutes ago"
    assert rows["local"][0] == "down"
    assert rows["local"][1] == "down, 0 minutes ago"
    assert rows["local"][2:] == ["20 ms", "connection refused"]


def _table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table, each as the text of its cells with whitespace collapsed."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert table, f"no table #{table_id} on the page"
    body = table.group(1)

    def text(cell: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split())

    return [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _chart_in(page: str) -> dict:
    """The spec of the first chart on a page, as the browser reads it."""
    return json.loads(html.unescape(re.search(r'data-lookout-chart="([^"]*)"', page).group(1)))


def test_only_heartbeats_show_the_schedule_inline(admin_client):
    http = TargetFactory()
    heartbeat = HeartbeatFactory()
    assert (
        "heartbeat-TOTAL_FORMS"
        not in admin_client.get(reverse("admin:monitoring_target_change", args=[http.pk])).content.decode()
    )
    page = admin_client.get(reverse("admin:monitoring_target_change", args=[heartbeat.pk])).content.decode()
    assert f"/ping/{heartbeat.ping_key}" in page


def test_a_new_target_of_another_kind_drops_its_heartbeat_schedule(admin_client):
    project = ProjectFactory()
    page = admin_client.get(reverse("admin:monitoring_target_add")).content.decode()
    # One schedule form ready for a target that becomes a heartbeat; the page hides it for other kinds.
    assert re.search(r'name="heartbeat-TOTAL_FORMS"[^>]*value="1"', page)
    assert "heartbeat_inline_after" not in page and 'getElementById("heartbeat-group")' in page

    # Posted as an http target, a schedule left in the form (even a wrong one) is neither checked nor saved.
    data = form_data(project, **heartbeat_data(cron="0 25 * * *"))
    response = admin_client.post(reverse("admin:monitoring_target_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Target.objects.get().kind == "http" and not Heartbeat.objects.exists()


def test_a_new_heartbeat_is_saved_with_its_period_schedule(admin_client):
    project = ProjectFactory()
    data = form_data(project, kind="heartbeat", url="", **{"heartbeat-TOTAL_FORMS": 1})
    data.update({"heartbeat-0-schedule": "period", "heartbeat-0-period_seconds": 3600, "heartbeat-0-grace_seconds": 60})
    data.update({"heartbeat-0-time_zone": "UTC"})
    response = admin_client.post(reverse("admin:monitoring_target_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    heartbeat = Heartbeat.objects.get()
    assert (heartbeat.schedule, heartbeat.period_seconds, heartbeat.target.kind) == ("period", 3600, "heartbeat")
