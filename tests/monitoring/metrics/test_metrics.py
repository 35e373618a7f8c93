"""/metrics as Prometheus scrapes it: guarded, and counting every process on the host."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from celery import shared_task
from prometheus_client.parser import text_string_to_metric_families

from monitoring.health.tasks import housekeeping
from tests.config.test_celery_worker import _wait_for
from tests.config.test_celery_worker import worker as worker  # a fixture
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "scrape-token-7f3a"


@shared_task(name="tests.metrics.explode")
def explode():
    raise RuntimeError("boom")


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in an exposition, 0 when the series does not exist yet."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]

    def read() -> str:
        response = client.get("/metrics")
        assert response.status_code == 200
        return response.content.decode()

    return read


def requests_counted(text, route, status="200", method="GET"):
    return sample(text, "lookout_http_requests_total", method=method, route=route, status=status)


# --- the guard -----------------------------------------------------------------------


def test_the_right_token_is_let_in_from_any_address(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN], ids=["wrong", "empty", "basic", "bare"]
)
def test_a_wrong_token_is_403_json_even_from_an_allowed_address(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]

    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("authorization:")
    assert b"lookout_http_requests" not in response.content


def test_no_token_configured_means_no_token_is_accepted(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("10.1.2.3", True),
        ("192.168.0.9", True),
        ("::ffff:192.168.0.9", True),
        ("192.168.1.9", False),
        ("203.0.113.7", False),
    ],
)
def test_the_allowlist_takes_addresses_and_networks(client, settings, address, allowed):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.168.0.9"]

    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == (200 if allowed else 403)


def test_a_forwarded_header_is_believed_only_for_declared_proxies(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    spoofed = {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", **spoofed).status_code == 403

    # Behind one proxy on this host, every request arrives from 127.0.0.1: the client is
    # the address the proxy appended, whatever the client put in front of it.
    settings.AXES_IPWARE_PROXY_COUNT = 1
    behind_proxy = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1, 203.0.113.7"}
    assert client.get("/metrics", **behind_proxy).status_code == 403
    local_scraper = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", **local_scraper).status_code == 200


def test_metrics_are_read_only(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200


def test_a_typo_in_the_allowlist_is_a_system_check_error(settings):
    from monitoring.metrics.checks import metrics_allowlist_is_valid

    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.300", ""]

    errors = metrics_allowlist_is_valid(None)

    assert [e.id for e in errors] == ["lookout.metrics.E001"]
    assert "10.0.0.300" in errors[0].msg


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


# --- what is counted -----------------------------------------------------------------


def test_a_request_shows_up_by_route_method_and_status(client, scrape):
    before = scrape()
    client.get("/health/live")
    client.get("/health/live")
    after = scrape()

    assert requests_counted(after, "health/live") - requests_counted(before, "health/live") == 2
    duration = "lookout_http_request_duration_seconds_count"
    labels = {"method": "GET", "route": "health/live", "status": "200"}
    assert sample(after, duration, **labels) - sample(before, duration, **labels) == 2


@pytest.mark.django_db
def test_routes_are_url_patterns_never_raw_paths(client, scrape):
    unknown_path = f"/no-such-page-{uuid.uuid4().hex}"
    before = scrape()
    client.get("/health/nosuchcomponent")
    client.get(unknown_path)
    client.generic("BREW", "/health/live")
    after = scrape()

    assert (
        requests_counted(after, "health/<slug:component>", "404")
        - requests_counted(before, "health/<slug:component>", "404")
        == 1
    )
    assert requests_counted(after, "unmatched", "404") - requests_counted(before, "unmatched", "404") == 1
    assert (
        requests_counted(after, "health/live", "405", method="other")
        - requests_counted(before, "health/live", "405", method="other")
        == 1
    )
    assert unknown_path not in after
    assert "nosuchcomponent" not in after


@pytest.mark.django_db
def test_tasks_are_counted_by_name_and_final_state(scrape):
    before = scrape()
    housekeeping.apply()
    explode.apply()
    after = scrape()

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    ok = {"task": "health.housekeeping", "state": "SUCCESS"}
    failed = {"task": "tests.metrics.explode", "state": "FAILURE"}
    assert delta("lookout_celery_tasks_total", **ok) == 1
    assert delta("lookout_celery_tasks_total", **failed) == 1
    assert delta("lookout_celery_task_duration_seconds_count", **failed) == 1


def test_counts_from_another_process_on_the_host_are_merged(scrape):
    # A second Django process (as a Celery worker or another gunicorn worker would be),
    # sharing the folder through the environment it inherits.
    before = scrape()
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "for _ in range(3): assert Client().get('/health/live', HTTP_HOST='127.0.0.1').status_code == 200\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    after = scrape()

    assert requests_counted(after, "health/live") - requests_counted(before, "health/live") == 3


# --- gunicorn, as the Procfile runs it --------------------------------------------------


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "LOOKOUT_DATA_DIR": str(tmp_path),
        "LOOKOUT_READ_DOT_ENV": "0",
        "DEBUG": "1",
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.py",
        "--bind", f"127.0.0.1:{port}", "--workers", "2",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(f"{base}/health/live")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield base, tmp_path / "prometheus"
    server.send_signal(signal.SIGINT)  # quick shutdown; the test has nothing in flight
    server.wait(timeout=10)


def test_gunicorn_workers_share_one_set_of_counters(gunicorn):
    base, folder = gunicorn
    # Counted from what /metrics says now: the fixture's start-up probe may have been retried
    # on a slow machine (a request counted, then its answer timed out).
    before = requests_counted(_get(f"{base}/metrics").decode(), "health/live")
    assert before >= 1
    for _ in range(20):
        _get(f"{base}/health/live")  # one connection each, so both workers take some

    text = _get(f"{base}/metrics").decode()

    assert requests_counted(text, "health/live") == before + 20
    assert folder.is_dir() and any(folder.glob("counter_*.db"))


# --- a real Celery worker, as the Procfile runs it ------------------------------------


@pytest.fixture
def unset_metrics_dir(monkeypatch, settings):
    """Starts what comes next without PROMETHEUS_MULTIPROC_DIR in its environment, so a
    worker must find the folder from its own settings (as under a bare `celery worker`)."""
    assert settings.PROMETHEUS_MULTIPROC_DIR == settings.DATA_DIR / "prometheus"
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    return monkeypatch


@pytest.mark.celery_worker
def test_a_task_run_by_a_real_worker_is_counted_in_the_portals_metrics(unset_metrics_dir, worker, scrape):
    unset_metrics_dir.undo()  # the worker has started; this process scrapes as before
    labels = {"task": "health.housekeeping", "state": "SUCCESS"}
    before = sample(scrape(), "lookout_celery_tasks_total", **labels)

    housekeeping.apply_async(queue=worker.queue)

    _wait_for(
        lambda: sample(scrape(), "lookout_celery_tasks_total", **labels) == before + 1,
        worker,
        "the worker's task never showed up in /metrics",
    )


def test_a_missing_metrics_folder_is_a_503_not_a_crash(client, settings, monkeypatch, tmp_path):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "deleted-by-a-cleanup"))

    response = client.get("/metrics")

    assert response.status_code == 503
    assert response.json()["error"].startswith("metrics:")
