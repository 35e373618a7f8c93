"""GET /api/v1/overview: the team's monitoring API, with real figures from a real database and broker."""

import socket
import subprocess
import time

import pytest
import redis
from django.db import connection
from django.utils import timezone

from alerts.incidents.services.incidents import alerts_receive
from tests.alerts.api.conftest import queries_for
from tests.alerts.incidents.factories import firing
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db


def test_overview_answers_every_section(reader, settings):
    alerts_receive(signals=[firing(severity="critical", dedup_key="k-1", at=timezone.now())], now=timezone.now())
    TargetFactory(status="down")
    TargetFactory(status="up")
    answer = reader.get("/api/v1/overview")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["incidents"] == {"open": 1, "by_severity": {"critical": 1}}
    assert body["targets"]["down"] == 1 and body["targets"]["failing"][0]["status"] == "down"
    assert body["backups"]["plans"] == 0 and body["backups"]["newest_success_at"] is None
    assert set(body["ingest"]) == {"window_minutes", "metric_points_per_minute", "probe_results_per_minute"}
    database = body["database"]
    assert database["vendor"] == connection.vendor
    if connection.vendor == "postgresql":
        assert database["size_bytes"] > 0 and database["connections"] >= 1
        assert 0 <= database["cache_hit_ratio"] <= 1
        assert database["largest_tables"] and all(t["size_bytes"] >= 0 for t in database["largest_tables"])
    else:
        assert database["connections"] is None and database["cache_hit_ratio"] is None
        assert any(note.startswith("cache_hit_ratio") for note in database["notes"])
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert set(body["queues"]["depths"]) >= {"default", "probes", "notify", "ingest", "backups"}
    else:
        # The embedded broker has folders, not queues: said, not guessed.
        assert body["queues"]["depths"] is None and body["queues"]["note"]


@pytest.fixture
def redis_broker(settings, tmp_path):
    """A Redis server of the test's own, on a free port, as the broker."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    yield client
    server.terminate()
    server.wait(timeout=10)


def test_queue_depths_are_read_from_a_redis_broker(reader, redis_broker):
    redis_broker.rpush("notify", "a", "b", "c")
    redis_broker.rpush("probes", "x")
    queues = reader.get("/api/v1/overview").json()["queues"]
    assert queues["broker"] == "redis"
    assert queues["depths"]["notify"] == 3 and queues["depths"]["probes"] == 1 and queues["depths"]["default"] == 0


def test_a_broker_that_does_not_answer_is_a_note_not_a_500(reader, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings.CELERY_BROKER_URL = f"redis://:hunter2@127.0.0.1:{port}/0"
    answer = reader.get("/api/v1/overview")
    assert answer.status_code == 200
    assert answer.json()["queues"]["depths"] is None and "could not be read" in answer.json()["queues"]["note"]
    assert "hunter2" not in answer.content.decode()


def test_overview_reads_in_a_fixed_number_of_queries(reader):
    few = queries_for(reader, "/api/v1/overview")
    for n in range(5):
        TargetFactory(status="down")
        alerts_receive(signals=[firing(dedup_key=f"k-{n}", at=timezone.now())], now=timezone.now())
    assert queries_for(reader, "/api/v1/overview") == few


def test_unknown_parameters_and_missing_tokens_are_refused(reader, client):
    assert reader.get("/api/v1/overview", {"verbose": "1"}).status_code == 400
    assert client.get("/api/v1/overview").status_code in (401, 403)
