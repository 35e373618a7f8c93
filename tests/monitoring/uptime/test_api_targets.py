"""The targets API: CRUD with field errors, results, flips, pause/resume, summary, schema."""

import datetime as dt

import pytest
from django.utils import timezone

from monitoring.models import Flip, Heartbeat, ProbeResult, Status, Target
from tests.factories import ProjectFactory, make_api_token
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = pytest.mark.django_db
TARGETS = "/api/v1/targets"


@pytest.fixture
def api(client):
    secret = make_api_token(scope="write").secret

    def call(method, path, body=None):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        return getattr(client, method)(path, body, HTTP_AUTHORIZATION=f"Bearer {secret}", **kwargs)

    return call


def test_create_read_update_delete_an_http_target(api):
    project = ProjectFactory()
    created = api(
        "post",
        TARGETS,
        {
            "project": project.pk,
            "name": "Shop",
            "kind": "http",
            "url": "https://shop.example/health",
            "tags": ["shop", "critical"],
            "accepted_statuses": "200-299",
            "interval_seconds": 30,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["tags"], body["heartbeat"]) == ("unknown", ["critical", "shop"], None)
    path = f"{TARGETS}/{body['id']}"
    assert api("patch", path, {"keyword": "ok", "tags": ["shop"]}).json()["tags"] == ["shop"]
    assert Target.objects.get().keyword == "ok"
    assert api("get", f"{TARGETS}?project={project.pk}").json()["results"][0]["name"] == "Shop"
    assert api("delete", path).status_code == 204
    assert not Target.objects.exists()


def test_a_heartbeat_target_with_a_cron_schedule_gets_its_ping_url(api):
    project = ProjectFactory()
    response = api(
        "post",
        TARGETS,
        {
            "project": project.pk,
            "name": "Nightly backup",
            "kind": "heartbeat",
            "heartbeat": {"schedule": "cron", "cron": "0 3 * * *", "time_zone": "Europe/Berlin", "grace_seconds": 1800},
        },
    )
    assert response.status_code == 201, response.content
    heartbeat = Heartbeat.objects.get()
    assert response.json()["heartbeat"]["ping_url"].endswith(f"/ping/{heartbeat.ping_key}")
    assert heartbeat.cron == "0 3 * * *"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": ""}, "url"),
        ({"interval_seconds": 9}, "interval_seconds"),
        ({"regions": []}, "regions"),
        ({"regions": ["eu"], "quorum": 2}, "quorum"),
        ({"accepted_statuses": "2xx"}, "accepted_statuses"),
        ({"kind": "smtp"}, "kind"),
        ({"kind": "tcp", "host": "db.internal"}, "port"),
        ({"kind": "dns", "host": "shop.example", "dns_resolver": "resolver.example"}, "dns_resolver"),
        ({"kind": "heartbeat", "heartbeat": {"schedule": "cron", "cron": "every day"}}, "heartbeat.cron"),
        (
            {"kind": "heartbeat", "heartbeat": {"schedule": "cron", "cron": "0 3 * * *", "time_zone": "Berlin"}},
            "heartbeat.time_zone",
        ),
        ({"heartbeat": {"schedule": "period"}}, "heartbeat"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"project": 99999}, "project"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, body, field):
    project = ProjectFactory()
    payload = {"project": project.pk, "name": "Shop", "kind": "http", "url": "https://shop.example/", **body}
    response = api("post", TARGETS, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not Target.objects.exists() and not Heartbeat.objects.exists()


def test_malformed_json_is_a_400(api):
    assert api("post", TARGETS, "{oops").status_code == 400


def test_a_read_token_cannot_write(client):
    secret = make_api_token(scope="read").secret
    response = client.post(
        TARGETS, {"name": "x"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 403
    assert client.get(TARGETS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert client.get(TARGETS).status_code in (401, 403)


def test_results_flips_pause_resume_and_summary(api):
    target = TargetFactory(status=Status.DOWN)
    now = timezone.now()
    ProbeResult.objects.create(
        target_id=target.pk,
        checked_at=now - dt.timedelta(minutes=2),
        outcome=3,
        latency_ms=10_000,
        error="timed out after 10 s",
    )
    ProbeResult.objects.create(
        target_id=target.pk, checked_at=now - dt.timedelta(minutes=1), outcome=1, latency_ms=80, status_code=200
    )
    Flip.objects.create(target=target, at=now, old_status="up", new_status="down", reason="down after 2 …")
    results = api("get", f"{TARGETS}/{target.pk}/results").json()
    assert [r["outcome"] for r in results] == ["up", "down"]
    since = (now - dt.timedelta(seconds=90)).isoformat()
    assert len(api("get", f"{TARGETS}/{target.pk}/results?since={since.replace('+', '%2B')}").json()) == 1
    assert api("get", f"{TARGETS}/{target.pk}/results?since=yesterday").json()["fields"] == {
        "since": ["an ISO 8601 time with a zone, e.g. 2026-05-01T00:00:00Z"]
    }
    assert api("get", f"{TARGETS}/{target.pk}/flips").json()[0]["reason"] == "down after 2 …"
    assert api("post", f"{TARGETS}/{target.pk}/pause").json()["status"] == "paused"
    assert api("patch", f"{TARGETS}/{target.pk}", {"paused": False}).status_code == 400
    assert api("post", f"{TARGETS}/{target.pk}/resume").json()["status"] == "unknown"
    TargetFactory(status=Status.UP)
    summary = api("get", f"{TARGETS}/summary").json()
    assert summary["counts"] == {"unknown": 1, "up": 1}
    assert {"uptime_24h", "p95_ms_24h", "uptime_30d"} <= set(summary["targets"][0])


def test_the_schema_describes_the_targets_api(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/targets",
        "/api/v1/targets/{id}/results",
        "/api/v1/targets/{id}/flips",
        "/api/v1/targets/summary",
    ):
        assert path in schema


def test_a_bad_change_is_refused_and_leaves_the_target_as_it_was(api):
    target = TargetFactory(url="https://shop.example/", interval_seconds=60)
    path = f"{TARGETS}/{target.pk}"
    for change, field in [({"interval_seconds": 5}, "interval_seconds"), ({"url": "shop.example"}, "url")]:
        response = api("patch", path, {**change, "tags": ["new"]})
        assert response.status_code == 400
        assert list(response.json()["fields"]) == [field]
    target.refresh_from_db()
    assert (target.url, target.interval_seconds, list(target.tags.all())) == ("https://shop.example/", 60, [])
    assert api("patch", path, {"kind": "tcp", "host": "db.internal"}).json()["fields"] == {
        "port": ["A TCP target needs a port."]
    }


def test_a_heartbeat_schedule_change_with_a_bad_zone_changes_nothing(api):
    heartbeat = HeartbeatFactory(schedule="cron", cron="0 3 * * *", time_zone="UTC")
    response = api(
        "patch",
        f"{TARGETS}/{heartbeat.pk}",
        {"heartbeat": {"schedule": "cron", "cron": "0 4 * * *", "time_zone": "Europe/Nowhere"}},
    )
    assert response.status_code == 400 and "heartbeat.time_zone" in response.json()["fields"]
    heartbeat.refresh_from_db()
    assert (heartbeat.cron, heartbeat.time_zone) == ("0 3 * * *", "UTC")


def test_an_unknown_target_is_404(api):
    assert api("get", f"{TARGETS}/999999").status_code == 404
    assert api("get", f"{TARGETS}/999999/results").status_code == 404
    assert api("get", f"{TARGETS}?project=shop").status_code == 400
