"""Ingest at twice its capacity for 30 s: the excess is turned away quickly, with 429 (or 503),
every point that was accepted is stored, and the p99 latency of accepted requests is reported.

Capacity here is what the portal is configured to accept from one key (the telemetry rate
limit), set low so that twice of it is a load this machine can send; the server is the
embedded default under gunicorn, as `make run` serves it.
"""

import json
import sqlite3
import threading
import time
from http.client import HTTPConnection

from tests.benchmarks.server import Gunicorn, manage, server_environment
from tests.faults.conftest import only_in_fault_suite, project_ingest_key, record_none, stored_values

pytestmark = only_in_fault_suite

CAPACITY_PER_SECOND = 20
SECONDS = 30.0
CLIENTS = 4
# A refusal costs no database write: it must come back at least this fast (p99).
QUICK_REFUSAL_MS = 250.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def test_ingest_at_twice_its_capacity_for_30_s(tmp_path, bench):
    data = tmp_path / "var"
    env = server_environment(data)
    env.update(TELEMETRY_RATE_PER_SECOND=str(CAPACITY_PER_SECOND), TELEMETRY_RATE_BURST=str(CAPACITY_PER_SECOND))
    manage(env, "migrate", "--no-input")
    key = project_ingest_key(env, "Overload")
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log", workers=2)
    answers: list[tuple[int, int, float]] = []  # value, status, milliseconds
    lock = threading.Lock()
    # Each client sends at its share of twice the capacity, on a fixed schedule (open loop).
    every = CLIENTS / (2 * CAPACITY_PER_SECOND)

    def client(index: int, start: float):
        connection = HTTPConnection(server.host, server.port, timeout=10)
        n = 0
        while (due := start + n * every) < start + SECONDS:
            time.sleep(max(0.0, due - time.monotonic()))
            value = index + n * CLIENTS
            n += 1
            began = time.perf_counter()
            try:
                body = json.dumps({"name": "faults.overload", "value": value})
                headers = {"Content-Type": "application/json", "X-Lookout-Key": key}
                connection.request("POST", "/api/v1/metrics", body, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                connection.close()
                connection = HTTPConnection(server.host, server.port, timeout=10)
                status = 0
            with lock:
                answers.append((value, status, (time.perf_counter() - began) * 1000))
        connection.close()

    try:
        server.wait_until_serving("/health/live")
        start = time.monotonic() + 0.2
        threads = [threading.Thread(target=client, args=(i, start)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
    finally:
        server.stop()

    accepted = {value for value, status, _ in answers if 200 <= status < 300}
    accepted_ms = [ms for _, status, ms in answers if 200 <= status < 300]
    refused_ms = [ms for _, status, ms in answers if status in (429, 503)]
    other = [(value, status) for value, status, _ in answers if not (200 <= status < 300 or status in (429, 503))]
    with sqlite3.connect(data / "lookout.sqlite3") as db:
        stored = stored_values(db, "faults.overload", placeholder="?")
    lost = accepted - stored
    p99_accepted, p99_refused = _percentile(accepted_ms, 0.99), _percentile(refused_ms, 0.99)

    bench.record(
        name="faults: ingest at 2x capacity 30 s, p99 of accepted",
        value=p99_accepted,
        unit="ms",
        baseline="p99 of refused",
        baseline_value=p99_refused,
        goal="reported",
        met=True,
    )
    bench.record(
        name="faults: ingest at 2x capacity 30 s, p99 of refused (429/503)",
        value=p99_refused,
        unit="ms",
        baseline="p50 of accepted",
        baseline_value=_percentile(accepted_ms, 0.5),
        goal=f"<= {QUICK_REFUSAL_MS:g} ms",
        met=p99_refused <= QUICK_REFUSAL_MS,
    )
    bench.record(
        name="faults: ingest at 2x capacity 30 s, accepted",
        value=len(accepted),
        unit="items",
        baseline="capacity x 30 s + burst",
        baseline_value=CAPACITY_PER_SECOND * (SECONDS + 1),
        goal="about 1x",
        met=len(accepted) <= 1.6 * CAPACITY_PER_SECOND * (SECONDS + 1),
    )
    record_none(
        bench,
        "faults: ingest at 2x capacity 30 s, accepted items lost",
        len(lost),
        unit="items",
        out_of=len(accepted),
        of="items accepted",
    )
    record_none(
        bench,
        "faults: ingest at 2x capacity 30 s, answers other than 2xx/429/503",
        len(other),
        unit="answers",
        out_of=len(answers),
        of="answers in all",
    )

    sent = len(answers)
    assert sent >= 0.9 * 2 * CAPACITY_PER_SECOND * SECONDS, f"only {sent} requests were sent"
    assert other == [], f"{len(other)} answers were neither 2xx nor 429/503: {other[:10]}\n{server.log_tail()}"
    # The excess is refused: the capacity over the 30 s plus the burst is about half of what
    # was sent. (Measured 1.0 to 1.4 times that accepted with two gunicorn workers on a loaded
    # machine; the bound leaves room for it, the figure above reports it.)
    allowed = CAPACITY_PER_SECOND * SECONDS + CAPACITY_PER_SECOND
    assert len(refused_ms) >= 0.2 * sent, (len(refused_ms), sent)
    assert len(accepted) <= 1.6 * allowed, (len(accepted), allowed)
    assert p99_refused <= QUICK_REFUSAL_MS, f"refusals took {p99_refused:.0f} ms at p99"
    assert not lost, f"{len(lost)} accepted points are not stored, e.g. {sorted(lost)[:10]}"
