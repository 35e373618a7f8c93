"""Public status pages: what an anonymous visitor, a Statuspage widget and a badge see."""

import datetime as dt
import gzip
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Incident, MaintenanceWindow, StatusPage
from alerts.status import bodies as status_bodies
from alerts.status import selectors as status_selectors
from alerts.status.models import ComponentStatus, IncidentStatus
from alerts.status.services import (
    component_override_set,
    public_incident_create,
    public_incident_update_add,
    status_page_touch,
)
from monitoring.models import TargetRollup, TargetRollupCursor
from monitoring.uptime.probes.base import DEGRADED, DOWN, UP
from monitoring.uptime.services.rollups import floor_time
from tests.alerts.status.factories import (
    ComponentFactory,
    ComponentGroupFactory,
    StatusPageFactory,
    daily_rollups,
    probe,
)
from tests.monitoring.uptime.factories import TargetFactory
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def summary(client, page):
    response = client.get(f"/status/{page.slug}/api/v2/summary.json")
    assert response.status_code == 200, response.content
    return response.json()


def statuses(client, page):
    return {c["name"]: c["status"] for c in summary(client, page)["components"] if not c["group"]}


def test_component_status_follows_the_targets_real_state(client):
    page = StatusPageFactory()
    api, web, search = (ComponentFactory(page=page, name=n) for n in ("API", "Website", "Search"))
    probe(api.target, UP)
    probe(web.target, DOWN)
    probe(search.target, DEGRADED)

    data = summary(client, page)
    assert statuses(client, page) == {
        "API": "operational",
        "Website": "major_outage",
        "Search": "degraded_performance",
    }
    # The page is as bad as its worst component.
    assert data["status"] == {"indicator": "critical", "description": "Major System Outage"}


def test_an_override_wins_shows_its_note_and_drops_the_cached_page(client):
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    probe(api.target, UP)
    assert "Operational" in client.get(f"/status/{page.slug}/").content.decode()

    component_override_set(component=api, status=ComponentStatus.PARTIAL_OUTAGE, note="EU customers see timeouts")

    html = client.get(f"/status/{page.slug}/").content.decode()
    assert "Partial outage" in html and "EU customers see timeouts" in html
    assert statuses(client, page) == {"API": "partial_outage"}
    component_override_set(component=api, status="")
    assert statuses(client, page) == {"API": "operational"}


def test_the_page_renders_for_anyone_without_login_or_outside_requests(client):
    page = StatusPageFactory(title="Acme Cloud", description="Everything Acme runs")
    group = ComponentGroupFactory(page=page, name="Core")
    api = ComponentFactory(page=page, group=group, name="Public API")
    daily_rollups(api.target, [100.0] * 85 + [98.0, None, 99.5, 100.0, 100.0])
    probe(api.target, UP)

    response = client.get(f"/status/{page.slug}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Cloud" in html and "Core" in html and "Public API" in html
    assert "All Systems Operational" in html
    bar = re.search(r'<div class="bar"[^>]*>(.*?)</div>', html).group(1)
    days = re.findall(r'<span class="(\w+)" title="([^"]+)"', bar)
    assert len(days) == 90
    assert [state for state, _ in days[-5:]] == ["down", "nodata", "degraded", "up", "up"]
    assert days[-5][1].endswith("98.00 % uptime")
    assert "no data" in days[-4][1]
    # Nothing to fetch from anywhere else, and no script at all.
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "script-src" not in response["Content-Security-Policy"]


def test_an_unknown_page_is_404(client):
    assert client.get("/status/nothing-here/").status_code == 404
    assert client.get("/status/nothing-here/api/v2/summary.json").status_code == 404


def test_maintenance_shows_on_the_component_the_bar_and_the_schedule_and_leaves_the_uptime(client):
    page = StatusPageFactory(exclude_maintenance=True)
    api = ComponentFactory(page=page, name="API")
    probe(api.target, DOWN)
    now = timezone.now()
    yesterday = floor_time(now, 86400) - dt.timedelta(days=1)
    daily_rollups(api.target, [100.0] * 88 + [50.0, 100.0])  # the bad day was maintenance
    MaintenanceWindow.objects.create(
        name="Database upgrade", target=api.target, starts_at=yesterday - dt.timedelta(hours=12), duration_minutes=120
    )
    MaintenanceWindow.objects.create(name="Now", target=api.target, starts_at=now - dt.timedelta(minutes=5))
    MaintenanceWindow.objects.create(
        name="Network swap", project=api.target.project, starts_at=now + dt.timedelta(days=2), duration_minutes=30
    )

    data = summary(client, page)
    assert statuses(client, page) == {"API": "under_maintenance"}
    assert [(m["name"], m["status"]) for m in data["scheduled_maintenances"]] == [
        ("Now", "in_progress"),
        ("Network swap", "scheduled"),
    ]
    assert data["scheduled_maintenances"][1]["components"][0]["name"] == "API"

    html = client.get(f"/status/{page.slug}/").content.decode()
    assert 'class="maintenance" title="' in html and "maintenance: Database upgrade" in html
    assert "100.00 % uptime" in html  # the maintenance day is left out
    page.exclude_maintenance = False
    page.save()
    status_page_touch(page_id=page.pk)
    assert "99.44 % uptime" in client.get(f"/status/{page.slug}/").content.decode()


def test_a_rebuilt_page_shows_a_newly_rolled_up_day_and_a_window_over_past_days(client):
    """The bars are kept between rebuilds; a new daily rollup or a window over the bars' days
    must still reach the page at its next rebuild."""
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    daily_rollups(api.target, [100.0] * 88 + [None, None])
    yesterday = floor_time(timezone.now(), 86400) - dt.timedelta(days=1)
    TargetRollupCursor.objects.create(resolution=TargetRollup.Resolution.DAY, done_until=yesterday)

    def last_days():
        status_page_touch(page_id=page.pk)
        html = client.get(f"/status/{page.slug}/").content.decode()
        return re.findall(r'<span class="(\w+)" title="([^"]+)"', html)[-2:]

    assert [state for state, _ in last_days()] == ["nodata", "nodata"]
    # The rollup task writes yesterday's row as its cursor moves past the day.
    daily_rollups(api.target, [50.0])
    TargetRollupCursor.objects.update(done_until=yesterday + dt.timedelta(days=1))
    assert [state for state, _ in last_days()] == ["nodata", "down"]
    MaintenanceWindow.objects.create(
        name="Disk swap", target=api.target, starts_at=yesterday + dt.timedelta(hours=1), duration_minutes=60
    )
    state, words = last_days()[1]
    assert state == "maintenance" and words.endswith("maintenance: Disk swap")


def test_public_incidents_with_updates_and_their_internal_link(client):
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    probe(api.target, UP)
    internal = Incident.objects.create(title="p95 latency rule firing", dedup_key="rule:1", opened_at=timezone.now())
    incident = public_incident_create(
        page=page,
        name="Slow API responses",
        body="We are looking into slow responses.",
        impact="major",
        components=[api],
        internal_incident_id=internal.pk,
    )
    public_incident_update_add(incident=incident, status=IncidentStatus.IDENTIFIED, body="A bad deploy; rolling back.")

    data = summary(client, page)
    assert data["status"]["indicator"] == "major"
    [shown] = data["incidents"]
    assert shown["status"] == "identified"
    assert [u["status"] for u in shown["incident_updates"]] == ["identified", "investigating"]
    html = client.get(f"/status/{page.slug}/").content.decode()
    assert "A bad deploy; rolling back." in html and "p95 latency rule firing" not in html

    public_incident_update_add(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    incident.refresh_from_db()
    assert incident.resolved_at is not None and incident.internal_incident_id == internal.pk
    assert summary(client, page)["incidents"] == []
    listed = client.get(f"/status/{page.slug}/api/v2/incidents.json").json()["incidents"]
    assert listed[0]["status"] == "resolved" and listed[0]["resolved_at"]


# Atlassian Statuspage's documented keys (developer.statuspage.io, "summary" of the public v2 API).
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
    "start_date", "group_id", "page_id", "group", "only_show_if_degraded",
}  # fmt: skip
INCIDENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
    "shortlink", "started_at", "page_id", "incident_updates", "components",
}  # fmt: skip
UPDATE_KEYS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"}
MAINTENANCE_KEYS = INCIDENT_KEYS - {"started_at", "monitoring_at", "resolved_at"} | {"scheduled_for", "scheduled_until"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}


def test_summary_json_has_statuspages_documented_shape(client):
    page = StatusPageFactory()
    group = ComponentGroupFactory(page=page, name="Core")
    api = ComponentFactory(page=page, group=group, name="API")
    ComponentFactory(page=page, name="Docs")
    probe(api.target, UP)
    public_incident_create(page=page, name="Slow", body="Looking.", components=[api])
    MaintenanceWindow.objects.create(
        name="Upgrade", target=api.target, starts_at=timezone.now() + dt.timedelta(hours=3)
    )

    data = summary(client, page)

    assert set(data) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert PAGE_KEYS <= set(data["page"])
    assert set(data["status"]) == {"indicator", "description"}
    assert data["status"]["indicator"] in {"none", "minor", "major", "critical"}
    for component in data["components"]:
        assert COMPONENT_KEYS <= set(component), component
        assert component["status"] in COMPONENT_STATUSES
    [core] = [c for c in data["components"] if c["group"]]
    assert core["components"] == [str(api.pk)]
    assert next(c for c in data["components"] if c["name"] == "API")["group_id"] == core["id"]
    [incident] = data["incidents"]
    assert INCIDENT_KEYS <= set(incident)
    assert incident["status"] in {"investigating", "identified", "monitoring", "resolved", "postmortem"}
    assert UPDATE_KEYS <= set(incident["incident_updates"][0])
    [maintenance] = data["scheduled_maintenances"]
    assert MAINTENANCE_KEYS <= set(maintenance)
    assert maintenance["status"] in {"scheduled", "in_progress", "verifying", "completed"}
    for name, key in (
        ("status", "status"),
        ("components", "components"),
        ("scheduled-maintenances", "scheduled_maintenances"),
    ):
        body = client.get(f"/status/{page.slug}/api/v2/{name}.json").json()
        assert set(body) == {"page", key}
    # Widgets on other sites read it too.
    assert client.get(f"/status/{page.slug}/api/v2/status.json")["Access-Control-Allow-Origin"] == "*"


def test_badges_and_shields_endpoint(client):
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    probe(api.target, DOWN)

    status = client.get(f"/status/{page.slug}/badge/{api.pk}/status.svg")
    assert status.status_code == 200 and status["Content-Type"] == "image/svg+xml"
    assert "major outage" in status.content.decode()
    uptime = client.get(f"/status/{page.slug}/badge/{api.pk}/uptime-30d.svg").content.decode()
    assert "uptime 30d" in uptime
    assert client.get(f"/status/{page.slug}/badge/{api.pk}/response.svg").status_code == 200
    shield = client.get(f"/status/{page.slug}/badge/{api.pk}/status.json").json()
    assert shield == {"schemaVersion": 1, "label": "API", "message": "major outage", "color": "red"}


@pytest.mark.parametrize(
    ("expires_in", "message", "color"),
    [
        (dt.timedelta(days=45, hours=1), "45 days", "green"),
        (dt.timedelta(days=12, hours=1), "12 days", "yellow"),
        (dt.timedelta(days=1, hours=1), "1 day", "red"),
        (dt.timedelta(hours=-2), "expired", "red"),
        (None, "no certificate", "lightgrey"),
    ],
)
def test_the_certificate_badge_counts_the_days_the_last_probe_saw(client, expires_in, message, color):
    page = StatusPageFactory()
    api = ComponentFactory(page=page, name="API")
    if expires_in is not None:
        type(api.target).objects.filter(pk=api.target.pk).update(cert_expires_at=timezone.now() + expires_in)

    shield = client.get(f"/status/{page.slug}/badge/{api.pk}/certificate.json").json()
    svg = client.get(f"/status/{page.slug}/badge/{api.pk}/certificate.svg")

    assert shield == {"schemaVersion": 1, "label": "certificate", "message": message, "color": color}
    assert svg.status_code == 200 and f">{message}</text>" in svg.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/status/{slug}/badge/999999/status.svg",
        "/status/missing/badge/{pk}/status.svg",
        "/status/{slug}/badge/{pk}/sparkles.svg",
    ],
)
def test_an_unknown_badge_is_a_grey_unknown_404(client, path):
    page = StatusPageFactory()
    api = ComponentFactory(page=page)
    response = client.get(path.format(slug=page.slug, pk=api.pk))
    assert response.status_code == 404
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert ">unknown</text>" in svg and "#6b7280" in svg
    shield = client.get(path.format(slug=page.slug, pk=api.pk).replace(".svg", ".json"))
    assert shield.status_code == 404 and shield.json()["message"] == "unknown"


def test_a_taken_custom_domain_is_a_field_error():
    StatusPageFactory(custom_domain="status.acme.test")
    page = StatusPage(slug="other", title="Other", custom_domain="Status.ACME.test")
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert error.value.message_dict == {"custom_domain": ["Another status page already answers on this domain."]}
    bad = StatusPage(slug="bad", title="Bad", custom_domain="https://status.acme.test/")
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert list(error.value.message_dict) == ["custom_domain"]


def test_the_admin_form_names_the_taken_domain_field(admin_client):
    StatusPageFactory(custom_domain="status.acme.test")
    response = admin_client.post(
        "/admin/alerts/statuspage/add/",
        {
            "title": "Second",
            "slug": "second",
            "custom_domain": "status.acme.test",
            "exclude_maintenance": "on",
            **{
                f"{prefix}-{k}": v
                for prefix in ("groups", "components")
                for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
            },
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "custom_domain": ["Another status page already answers on this domain."]
    }
    assert not StatusPage.objects.filter(slug="second").exists()


def test_a_custom_domain_serves_its_page_at_the_root(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "status.acme.test"]
    page = StatusPageFactory(title="Acme on its own domain", custom_domain="status.acme.test")
    probe(ComponentFactory(page=page, name="API").target, UP)

    html = client.get("/", HTTP_HOST="status.acme.test").content.decode()
    assert "Acme on its own domain" in html and 'href="/api/v2/summary.json"' in html
    data = client.get("/api/v2/summary.json", HTTP_HOST="status.acme.test").json()
    assert data["page"]["id"] == page.slug
    # The portal itself is not reachable through a status page's domain.
    assert client.get("/admin/", HTTP_HOST="status.acme.test").status_code == 404
    assert client.get("/").status_code == 302  # the portal's own host still leads to the admin


def test_query_count_is_pinned_for_a_page_of_50_components(client, django_assert_max_num_queries):
    page = StatusPageFactory()
    groups = [ComponentGroupFactory(page=page, name=f"Region {i}") for i in range(5)]
    target = TargetFactory()
    components = [
        ComponentFactory(page=page, group=groups[i % 5], target=TargetFactory(project=target.project))
        for i in range(50)
    ]
    for component in components[:10]:
        daily_rollups(component.target, [99.95] * 90)
    MaintenanceWindow.objects.create(
        name="Weekly",
        project=target.project,
        recurrence="cron",
        expression="0 2 * * SUN",
        starts_at=timezone.now() - dt.timedelta(days=120),
    )
    incident = public_incident_create(page=page, name="Slow", body="Looking.", components=components[:3])

    # The custom-domain map (cached after), the page lookup, then page, groups, components,
    # target states, windows, the daily rollup's cursor, daily rollups, incidents (+2
    # prefetches): the same however many components there are.
    with django_assert_max_num_queries(12):
        response = client.get(f"/status/{page.slug}/")
    assert response.status_code == 200
    assert response.content.decode().count('class="component"') == 50
    # An update changes the page's version; the bars' days have not changed, so the rebuild
    # reads no rollups (and no domain map).
    public_incident_update_add(incident=incident, status=IncidentStatus.MONITORING, body="Fixed, watching.")
    with django_assert_max_num_queries(10):
        again = client.get(f"/status/{page.slug}/")
    assert "Fixed, watching." in again.content.decode()
    assert again.content.decode().count('title="') == response.content.decode().count('title="')
    with django_assert_max_num_queries(1):  # cached: only the page's version is read
        client.get(f"/status/{page.slug}/api/v2/summary.json")


def test_shields_and_json_answer_unknown_documents_with_404(client):
    page = StatusPageFactory()
    assert client.get(f"/status/{page.slug}/api/v2/nothing.json").status_code == 404
    assert json.loads(client.get("/status/missing/api/v2/status.json").content) == {"error": "No status page here."}


def test_the_admin_refuses_an_incident_about_another_pages_component(admin_client):
    page, other = StatusPageFactory(), StatusPageFactory()
    stranger = ComponentFactory(page=other, name="Someone else's API")
    response = admin_client.post(
        "/admin/alerts/publicincident/add/",
        {
            "page": page.pk,
            "name": "Slow",
            "impact": "minor",
            "started_at_0": "2026-12-07",
            "started_at_1": "08:00:00",
            "components": [stranger.pk],
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"components": ["Not on this status page: Someone else's API."]}
    assert not page.incidents.exists()


@pytest.mark.parametrize("path", ["", "api/v2/summary.json"])
def test_a_page_is_sent_gzipped_to_those_who_accept_it_and_304_to_those_who_hold_it(client, path):
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="Public API")
    daily_rollups(api.target, [99.95] * 90)
    probe(api.target, UP)
    url = f"/status/{page.slug}/{path}"

    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="br, gzip;q=0.9")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content)
    for response in (plain, packed):
        assert response["Vary"] == "Accept-Encoding"
        assert response["Cache-Control"] == "public, max-age=30"
    assert plain["ETag"] == packed["ETag"]

    held = client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"], HTTP_ACCEPT_ENCODING="gzip")
    assert held.status_code == 304 and held.content == b""
    # A posted update is a new body with a new tag, in this process and every other.
    public_incident_create(page=page, name="Slow API", body="Looking into it.", components=[api])
    changed = client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"])
    assert changed.status_code == 200 and "Slow API" in changed.content.decode()
    assert changed["ETag"] != plain["ETag"]


def test_a_page_rendered_by_another_process_is_served_from_the_shared_cache(client, django_assert_num_queries):
    page = StatusPageFactory(title="Acme Cloud")
    probe(ComponentFactory(page=page, name="Public API").target, UP)
    first = client.get(f"/status/{page.slug}/")
    # As a second web process starts, with nothing of its own.
    status_bodies.forget_local()
    status_selectors.forget_pages()
    with django_assert_num_queries(1):  # the page's version; the body comes from the cache
        again = client.get(f"/status/{page.slug}/")
    assert again.content == first.content and again["ETag"] == first["ETag"]


def test_every_public_face_answers_while_the_shared_cache_is_unreachable(client, settings, caplog):
    """Redis down: nothing can be cached or read back, yet the page, its JSON, badges and
    history answer, and a posted update reaches the page at once."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="Public API")
    daily_rollups(api.target, [99.95] * 90)
    probe(api.target, UP)
    base = f"/status/{page.slug}/"

    with caplog.at_level("WARNING", logger="monitoring.common.shared_cache"):
        for path in ("", "api/v2/summary.json", f"badge/{api.pk}/status.svg", "history/", "widget/", "feed.atom"):
            assert client.get(base + path).status_code == 200, path
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "serving without the shared cache: the shared cache is unreachable"
    ]  # once per outage, not per request
    public_incident_create(page=page, name="Slow API", body="Looking into it.", components=[api])
    assert "Slow API" in client.get(base).content.decode()
    assert summary(client, page)["incidents"][0]["name"] == "Slow API"


def test_each_process_keeps_a_bounded_number_of_bodies():
    for n in range(status_bodies.LOCAL_ENTRIES + 10):
        status_bodies.cached_body(f"test:body:{n}", lambda n=n: (f"body {n}".encode(), 30))
    assert len(status_bodies._local) == status_bodies.LOCAL_ENTRIES
    assert "test:body:0" not in status_bodies._local  # the oldest went first
    assert f"test:body:{status_bodies.LOCAL_ENTRIES + 9}" in status_bodies._local
