"""The health endpoints as a load balancer, an uptime checker and an operator read them."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring.health.services import pulse_record
from tests.processes import free_port

pytestmark = pytest.mark.django_db
HEALTH_JSON = "application/health+json"
ENTRY_FIELDS = {"componentId", "componentType", "observedValue", "observedUnit", "status", "time"}


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on: connecting to it is refused at once."""
    return free_port()


@pytest.fixture
def fresh_pulses():
    now = timezone.now()
    pulse_record(kind="beat", name="beat", at=now)
    pulse_record(kind="worker", name="worker@host-a", at=now)


@pytest.fixture
def redis_cache(settings):
    def point_at(location):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}

    return point_at


def _entry(body, key):
    (entry,) = body["checks"][key]
    return entry


def test_everything_passes_when_every_dependency_and_process_is_alive(client, settings, fresh_pulses):
    response = client.get("/health")

    assert response.status_code == 200
    assert response["Content-Type"] == HEALTH_JSON
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "pass"
    assert body["version"] == "0.1.0"
    assert body["serviceId"] == "lookout"
    assert body["description"]
    assert "output" not in body
    assert set(body["checks"]) == {
        "database:responseTime",
        "cache:responseTime",
        "storage:responseTime",
        "broker:responseTime",
        "beat:pulseAge",
        "worker:pulseAge",
        "regions:pulseAge",
        "uptime",
        "responseTime",
    }
    for key in ("database:responseTime", "cache:responseTime", "storage:responseTime", "broker:responseTime"):
        entry = _entry(body, key)
        assert set(entry) == ENTRY_FIELDS, key
        assert entry["status"] == "pass"
        assert entry["observedUnit"] == "ms"
        assert entry["observedValue"] >= 0
    assert _entry(body, "database:responseTime")["componentType"] == "datastore"
    assert _entry(body, "broker:responseTime")["componentId"] == settings.CELERY_BROKER_URL.split(":")[0]
    assert _entry(body, "worker:pulseAge")["componentId"] == "worker@host-a"


def test_the_answer_carries_its_uptime_and_its_own_response_time(client):
    body = client.get("/health/live").json()

    uptime, took = _entry(body, "uptime"), _entry(body, "responseTime")
    assert uptime["componentType"] == took["componentType"] == "system"
    assert uptime["observedUnit"] == "s" and uptime["observedValue"] > 0
    assert took["observedUnit"] == "ms" and took["observedValue"] >= 0
    assert timezone.datetime.fromisoformat(uptime["time"]).tzinfo is not None


def test_live_issues_no_query_and_passes_while_every_dependency_is_down(
    client, settings, redis_cache, closed_port, django_assert_num_queries
):
    redis_cache(f"redis://127.0.0.1:{closed_port}/2")
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/2"

    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert response.status_code == 200
    assert response["Content-Type"] == HEALTH_JSON
    assert response.json()["status"] == "pass"
    assert set(response.json()["checks"]) == {"uptime", "responseTime"}


def test_a_load_balancer_may_probe_with_head(client):
    response = client.head("/health/ready")
    assert response.status_code == 200
    assert response.content == b""


def test_ready_checks_only_what_serving_requests_needs(client):
    # No beat and no worker have ever pulsed: requests can still be served.
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {
        "database:responseTime",
        "cache:responseTime",
        "uptime",
        "responseTime",
    }


def test_an_unreachable_cache_warns_and_ready_stays_200_saying_which_check(client, redis_cache, closed_port):
    """Nothing in a request path needs the cache (rate limits go per process without it),
    so a lost cache must not take every web process out of a load balancer."""
    redis_cache(f"redis://127.0.0.1:{closed_port}/2")

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response["Content-Type"] == HEALTH_JSON
    body = response.json()
    assert body["status"] == "warn"
    assert body["output"].startswith("cache:responseTime:")
    assert "per process" in body["output"]
    cache = _entry(body, "cache:responseTime")
    assert cache["status"] == "warn" and cache["output"]
    assert _entry(body, "database:responseTime")["status"] == "pass"


def test_a_missing_cache_alias_is_a_deployment_error_and_fails(client, settings):
    settings.CACHES = {"other": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    response = client.get("/health/cache")

    assert response.status_code == 503
    assert _entry(response.json(), "cache:responseTime")["status"] == "fail"


def test_a_reachable_redis_cache_passes(client, redis_cache):
    redis_cache("redis://127.0.0.1:6379/2")
    assert client.get("/health/cache").status_code == 200


def test_the_cache_probe_leaves_no_entry_behind(client, settings, tmp_path):
    # In the embedded file cache a leftover entry stays on disk until a cull, and a cull
    # evicts a random third of all entries: a polled /health must not fill it.
    folder = tmp_path / "cache"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(folder)}
    }

    for _ in range(3):
        assert client.get("/health/cache").status_code == 200

    assert list(folder.glob("*.djcache")) == []


@pytest.mark.parametrize("component", ["db", "cache", "storage", "broker", "beat", "worker", "regions"])
def test_each_component_has_its_own_endpoint(client, fresh_pulses, component):
    response = client.get(f"/health/{component}")

    assert response.status_code == 200
    assert response["Content-Type"] == HEALTH_JSON
    checks = set(response.json()["checks"]) - {"uptime", "responseTime"}
    assert len(checks) == 1


def test_an_unknown_component_is_a_404_naming_it(client):
    response = client.get("/health/mail")

    assert response.status_code == 404
    assert response.json()["error"].startswith("component: unknown 'mail'")


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "nonsense;;", "*/*"])
def test_the_answer_is_health_json_whatever_the_client_accepts(client, accept):
    response = client.get("/health/live", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == HEALTH_JSON


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready", "/health/db"])
def test_no_cache_keeps_a_health_answer(client, fresh_pulses, path):
    response = client.get(path)

    assert "no-store" in response["Cache-Control"]
    assert "Accept" in response["Vary"]


def test_health_is_read_only(client):
    assert client.post("/health").status_code == 405
    assert client.delete("/health/live").status_code == 405


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_an_unreachable_broker_fails_with_503(client, settings, closed_port, scheme):
    settings.CELERY_BROKER_URL = f"{scheme}://guest:guest@127.0.0.1:{closed_port}//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/health/broker")

    assert response.status_code == 503
    entry = _entry(response.json(), "broker:responseTime")
    assert entry["componentId"] == scheme
    assert entry["output"].startswith(f"cannot connect to the {scheme} broker")
    assert "guest" not in response.content.decode()  # the URL's credentials stay out


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/2", "amqp://guest:guest@127.0.0.1:5672//"], ids=["redis", "amqp"]
)
def test_a_running_broker_passes(client, settings, url):
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/health/broker")

    assert response.status_code == 200, response.content


def test_the_embedded_broker_fails_when_its_folder_is_gone(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "missing"),
        "data_folder_out": str(tmp_path / "missing"),
        "processed_folder": str(tmp_path),
    }

    response = client.get("/health/broker")

    assert response.status_code == 503
    assert "data_folder_in" in _entry(response.json(), "broker:responseTime")["output"]


def test_a_crash_inside_a_check_fails_that_check_not_the_answer(client, settings, tmp_path):
    # Storage rooted in a plain file: saving raises an OSError the library does not expect.
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder)},
        },
    }

    response = client.get("/health/storage")

    assert response.status_code == 503
    assert response["Content-Type"] == HEALTH_JSON
    entry = _entry(response.json(), "storage:responseTime")
    assert (entry["status"], entry["output"]) == ("fail", "unknown error")


def test_beat_passes_then_warns_then_fails_as_its_pulse_ages(client, settings):
    settings.HEALTH_BEAT_MAX_AGE = 120
    start = timezone.now()
    pulse_record(kind="beat", name="beat", at=start)

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        fresh = client.get("/health/beat")
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        late = client.get("/health/beat")
    with time_machine.travel(start + timedelta(seconds=121), tick=False):
        dead = client.get("/health/beat")

    assert (fresh.status_code, fresh.json()["status"]) == (200, "pass")
    assert _entry(fresh.json(), "beat:pulseAge")["observedValue"] == 30
    assert (late.status_code, late.json()["status"]) == (200, "warn")
    assert _entry(late.json(), "beat:pulseAge")["output"] == "last beat pulse is 90 s old (limit 120 s)"
    assert (dead.status_code, dead.json()["status"]) == (503, "fail")
    assert _entry(dead.json(), "beat:pulseAge")["observedValue"] == 121


def test_a_warning_makes_the_whole_answer_warn_but_stay_200(client, settings, fresh_pulses):
    settings.HEALTH_WORKER_MAX_AGE = 120
    with time_machine.travel(timezone.now() + timedelta(seconds=70), tick=False):
        pulse_record(kind="beat", name="beat", at=timezone.now())
        response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "warn"
    assert response.json()["output"].startswith("worker:pulseAge:")


def test_the_freshest_worker_speaks_for_the_workers(client, settings):
    settings.HEALTH_WORKER_MAX_AGE = 60
    now = timezone.now()
    pulse_record(kind="worker", name="worker@gone", at=now - timedelta(hours=1))
    pulse_record(kind="worker", name="worker@alive", at=now - timedelta(seconds=10))

    response = client.get("/health/worker")

    assert response.status_code == 200
    entry = _entry(response.json(), "worker:pulseAge")
    assert entry["componentId"] == "worker@alive"
    assert entry["observedUnit"] == "s"
    assert 10 <= entry["observedValue"] < 15


def test_workers_that_are_all_stale_fail(client, settings):
    settings.HEALTH_WORKER_MAX_AGE = 60
    pulse_record(kind="worker", name="worker@gone", at=timezone.now() - timedelta(minutes=5))

    response = client.get("/health/worker")

    assert response.status_code == 503
    assert _entry(response.json(), "worker:pulseAge")["componentId"] == "worker@gone"


@pytest.mark.parametrize("component", ["beat", "worker"])
def test_a_process_that_never_pulsed_fails(client, component):
    response = client.get(f"/health/{component}")

    assert response.status_code == 503
    entry = _entry(response.json(), f"{component}:pulseAge")
    assert entry["output"] == f"no {component} has pulsed yet"
    assert "observedValue" not in entry


def test_a_pulse_from_a_clock_running_ahead_counts_as_fresh(client):
    pulse_record(kind="beat", name="beat", at=timezone.now() + timedelta(seconds=3))

    response = client.get("/health/beat")

    assert response.status_code == 200
    assert _entry(response.json(), "beat:pulseAge")["observedValue"] == 0


# --- the admin index's health panel ----------------------------------------------------


def test_the_admin_index_shows_each_components_health(admin_client, settings):
    settings.HEALTH_WORKER_MAX_AGE = 60
    pulse_record(kind="beat", name="beat", at=timezone.now())
    pulse_record(kind="worker", name="worker@host-a", at=timezone.now() - timedelta(minutes=5))

    response = admin_client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    panel = html[html.index('id="health-panel"') : html.index('id="projects-panel"')]
    for component in ("database", "cache", "broker", "beat", "worker"):
        assert f'data-component="{component}"' in panel
    assert "last worker pulse is 300 s old (limit 60 s)" in panel
    assert 'href="/health"' in panel


def test_the_health_summary_reads_three_queries_at_most(fresh_pulses, django_assert_max_num_queries):
    from monitoring.health.selectors import health_summary

    with django_assert_max_num_queries(3):
        summary = health_summary()

    assert summary.status == "pass"
    assert [row.component for row in summary.rows] == ["database", "cache", "broker", "beat", "worker"]
    assert {row.status for row in summary.rows} == {"pass"}


def test_the_health_summary_reports_an_unreachable_cache_without_failing_the_page(
    admin_client, redis_cache, closed_port, fresh_pulses
):
    redis_cache(f"redis://127.0.0.1:{closed_port}/2")

    response = admin_client.get("/admin/")

    assert response.status_code == 200
    # A degraded cache warns: ingest and every page keep working without it.
    assert response.context["health"].status == "warn"
    (cache,) = [row for row in response.context["health"].rows if row.component == "cache"]
    assert cache.status == "warn" and cache.detail


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_fails_db_and_pulses_but_not_live_and_recovers(client):
    from django.db import connection

    pulse_record(kind="beat", name="beat", at=timezone.now())
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/lookout.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        live = client.get("/health/live")
        db = client.get("/health/db")
        beat = client.get("/health/beat")
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert live.status_code == 200
    assert db.status_code == 503
    assert _entry(db.json(), "database:responseTime")["status"] == "fail"
    assert beat.status_code == 503
    assert _entry(beat.json(), "beat:pulseAge")["output"] == "cannot read beat pulses: database unavailable"
    assert client.get("/health/db").status_code == 200  # no restart needed
