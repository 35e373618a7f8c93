"""Error ingest end to end: gzipped envelopes shaped like sentry-sdk's (a ~10 KB Python
exception event) POSTed to gunicorn on PostgreSQL by concurrent clients, every event
stored before its 200. Baseline: the do-nothing view under the same clients, same run.

Figures: events/s accepted and stored (goal 500/s), p99 from request to its issue being
visible (goal 2 s), and no duplicate issue across all events spread over the issues
(the full run: 100k events over 1,000 issues).

"Visible" means the issue row, in the stream, linked to the event: it is committed with
the event before the 200, so the request's latency bounds it. Its counters (event
count, users, last seen) follow later, from tallies folded by the beat tick (every 10 s)
or by a request at most once per ERRORS_FOLD_INTERVAL_SECONDS per process; that lag is
not in this figure.
"""

import copy
import gzip
import json
import threading
import time
import uuid
from http.client import HTTPConnection

import psycopg
import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from tests.benchmarks.server import Gunicorn, manage
from tests.benchmarks.telemetry_support import bench_environment, drop_database, fresh_database, in_django

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lookout_bench_errors"
CLIENTS = 4


class _Keep(Transport):
    """Keeps the SDK's envelope instead of sending it: the template every request copies."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


def sdk_event() -> dict:
    """A real sentry-sdk exception event (stack, locals, breadcrumbs), padded to about 10 KB."""
    transport = _Keep()
    client = sentry_sdk.Client(
        dsn="http://k@127.0.0.1/1",
        transport=transport,
        default_integrations=False,
        release="shop@2.3.1",
        environment="production",
        max_breadcrumbs=20,
    )
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        for n in range(20):
            sentry_sdk.add_breadcrumb(category="http", message=f"GET /api/cart/{n} 200", level="info")
        scope.set_user({"id": "u-1", "email": "ada@example.com"})
        scope.set_tag("browser", "Firefox")
        try:
            order = {"id": 7, "lines": [{"sku": f"SKU-{i}", "qty": i} for i in range(30)]}  # noqa: F841 a local
            {}["total"]
        except KeyError:
            sentry_sdk.capture_exception()
    client.flush()
    event = transport.envelopes[0].get_event()
    event["extra"] = {"padding": "x" * max(0, 10_000 - len(json.dumps(event)))}
    return event


def envelope_bodies(template: dict, count: int, issues: int) -> list[bytes]:
    bodies = []
    for n in range(count):
        event = copy.deepcopy(template)
        event["event_id"] = uuid.uuid4().hex
        event["exception"]["values"][-1]["type"] = f"BenchError{n % issues}"  # one issue per type
        event["user"] = {"id": f"u-{n % 50}"}
        header = json.dumps({"event_id": event["event_id"], "sent_at": "2026-11-22T00:00:00Z"})
        payload = json.dumps(event).encode()
        body = (
            header.encode() + b"\n" + json.dumps({"type": "event", "length": len(payload)}).encode() + b"\n" + payload
        )
        bodies.append(gzip.compress(body))
    return bodies


@pytest.fixture
def portal(tmp_path):
    fresh_database(DATABASE_URL)
    env = bench_environment(tmp_path / "data", ERRORS_RATE_PER_SECOND="0")  # throttling is not measured
    env["DATABASE_URL"] = DATABASE_URL
    manage(env, "migrate", "--noinput")
    new = in_django(
        env,
        (
            "import json; from monitoring.projects.services.projects import project_create\n"
            "n = project_create(name='Bench')\n"
            "print(json.dumps({'key': n.key.key.public_key, 'project': n.project.pk}))"
        ),
    )
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        server.wait_until_serving("/health/live")
        yield server, new["key"], new["project"]
    finally:
        server.stop()
        drop_database(DATABASE_URL)


def run_clients(server, path: str, bodies: list[bytes | None], headers: dict) -> tuple[float, list[float]]:
    """Requests spread over CLIENTS keep-alive connections: POST with a body, GET without."""
    latencies: list[float] = []
    failures: list[str] = []

    def client(share):
        connection = HTTPConnection(server.host, server.port, timeout=60)
        try:
            for body in share:
                started = time.perf_counter()
                connection.request("GET" if body is None else "POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    failures.append(f"{response.status} {answer[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(bodies[i::CLIENTS],)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not failures, (failures[:3], server.log_tail(80))
    return elapsed, latencies


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def test_error_ingest_throughput_latency_and_grouping(portal, bench, quick):
    server, key, project_id = portal
    events, issues = (2_000, 200) if quick else (100_000, 1_000)
    template = sdk_event()
    assert 9_000 < len(json.dumps(template)) < 12_000
    bodies = envelope_bodies(template, events, issues)
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": "gzip",
        "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=sentry.python/2, sentry_key={key}",
    }
    path = f"/api/{project_id}/envelope/"

    run_clients(server, path, bodies[:100], headers)  # warm-up: connections, first issues
    seconds, latencies = run_clients(server, path, bodies[100:], headers)
    rate = (events - 100) / seconds
    # GET: the do-nothing view is not CSRF-exempt, and the baseline is the stack's own cost.
    baseline_seconds, _ = run_clients(server, "/bench/do-nothing", [None] * (events - 100), {})
    baseline_rate = (events - 100) / baseline_seconds

    with psycopg.connect(DATABASE_URL) as connection:
        stored = connection.execute("SELECT count(*) FROM monitoring_errorevent").fetchone()[0]
        issue_rows, distinct_hashes = connection.execute(
            "SELECT count(*), count(DISTINCT grouping_hash) FROM monitoring_errorissue"
        ).fetchone()
    assert stored == events  # every 200 was a committed event
    assert issue_rows == distinct_hashes == issues

    bench.record(
        name=f"error events stored over HTTP ({events - 100}, gzipped ~10 KB)",
        value=rate,
        unit="events/s",
        baseline="do-nothing view (GET), same clients",
        baseline_value=baseline_rate,
        goal=">= 500 events/s",
        met=rate >= 500,
    )
    bench.record(
        name="p99 request to issue visible",
        value=p99(latencies) * 1000,
        unit="ms",
        baseline="median",
        baseline_value=sorted(latencies)[len(latencies) // 2] * 1000,
        goal="<= 2000 ms",
        met=p99(latencies) <= 2,
    )
    bench.record(
        name=f"issues from {events} events over {issues} groups",
        value=issue_rows,
        unit="issues",
        baseline="expected groups",
        baseline_value=issues,
        goal="no duplicates",
        met=issue_rows == issues,
    )
