"""Health endpoints answer in under 100 ms (p50 and p99), measured against a do-nothing view.

All three paths go through the same server, middleware and kind of connection, sampled in
turn so that any slowdown of the machine during the run hits them alike.
"""

import json
import math
import time

import pytest

from tests.benchmarks.server import Gunicorn, get, manage, server_environment

GOAL_MS = 100.0
BASELINE = "/bench/do-nothing"
HEALTH_PATHS = ("/health/live", "/health")


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed_get(server: Gunicorn, path: str) -> float:
    started = time.perf_counter()
    status, body = get(server.host, server.port, path)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert status == 200, f"GET {path} answered {status}: {body[:500]!r}"
    return elapsed_ms


@pytest.fixture
def server(tmp_path):
    env = server_environment(tmp_path / "data")
    manage(env, "migrate", "--noinput")
    # Fresh pulses, so /health runs every check to the end and answers pass, as a healthy
    # installation does (without them it would answer 503 early).
    manage(
        env,
        "shell",
        "-c",
        "from django.utils import timezone; from monitoring.health.services import pulse_record; "
        "[pulse_record(kind=k, name='bench', at=timezone.now()) for k in ('beat', 'worker')]",
    )
    running = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        running.wait_until_serving("/health/live")
        yield running
    finally:
        running.stop()


def test_health_latency_against_a_do_nothing_view(server, bench, quick):
    requests = 200 if quick else 2000
    warmup = 20 if quick else 100
    paths = (BASELINE, *HEALTH_PATHS)

    status, body = get(server.host, server.port, "/health")
    assert status == 200 and json.loads(body)["status"] == "pass", body

    for _ in range(warmup):  # first requests import code and open database connections
        for path in paths:
            timed_get(server, path)
    samples = {path: [] for path in paths}
    for _ in range(requests):
        for path in paths:
            samples[path].append(timed_get(server, path))

    enforced = []
    for p in (50, 99):
        baseline_ms = percentile(samples[BASELINE], p)
        for path in HEALTH_PATHS:
            value = percentile(samples[path], p)
            figure = bench.record(
                name=f"GET {path} p{p} ({requests} requests)",
                value=value,
                unit="ms",
                baseline=f"GET {BASELINE} p{p}",
                baseline_value=baseline_ms,
                goal=f"< {GOAL_MS:g} ms",
                met=value < GOAL_MS,
            )
            # In quick mode p99 is the second-slowest of 200 requests: one hiccup of a
            # shared CI machine. It is recorded but not held to the goal there; p50 is.
            if not quick or p == 50:
                enforced.append(figure)

    missed = [f"{f.name}: {f.value} ms" for f in enforced if not f.met]
    assert not missed, f"over {GOAL_MS:g} ms: {missed}"
