"""PostgreSQL stopped for 20 s under steady ingest, on a cluster of the test's own.

The portal runs as production does (gunicorn, DEBUG off) over that cluster. A client posts one
metric point after another, each with its own value; the database is stopped with pg_ctl,
left down for 20 s and started again. While it is down every answer is a 503 (never a 500);
within 5 s of its return ingest answers 2xx again; and every point that got a 2xx is stored.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.client import HTTPConnection

import psycopg

from tests.benchmarks.server import Gunicorn, manage, server_environment
from tests.faults.conftest import only_in_fault_suite, project_ingest_key, record_none, stored_values

pytestmark = only_in_fault_suite

OUTAGE_SECONDS = 20.0
RECOVERY_GOAL_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when the answer came back
    value: int
    status: int  # 0: no HTTP answer at all (connection refused or reset)


def _post(host: str, port: int, key: str, value: int) -> int:
    connection = HTTPConnection(host, port, timeout=10)
    try:
        body = json.dumps({"name": "faults.steady", "value": value})
        connection.request("POST", "/api/v1/metrics", body, {"Content-Type": "application/json", "X-Lookout-Key": key})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def test_postgres_stopped_for_20_s_under_steady_ingest(postgres_cluster, tmp_path, bench):
    env = server_environment(tmp_path / "var")
    env.update(
        DATABASE_URL=postgres_cluster.url,
        DATABASE_CONNECT_TIMEOUT="2",
        # The subject is the outage, not the rate limiter.
        TELEMETRY_RATE_PER_SECOND="100000",
        TELEMETRY_RATE_BURST="100000",
    )
    manage(env, "migrate", "--no-input")
    key = project_ingest_key(env, "Faults")
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log", workers=2)
    answers: list[Answer] = []
    stop = threading.Event()

    def ingest():
        value = 0
        while not stop.is_set():
            value += 1
            status = _post(server.host, server.port, key, value)
            answers.append(Answer(time.monotonic(), value, status))
            time.sleep(0.02)

    try:
        server.wait_until_serving("/health/live")
        client = threading.Thread(target=ingest, daemon=True)
        client.start()
        time.sleep(5)
        postgres_cluster.stop()
        down_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        restart_began = time.monotonic()
        postgres_cluster.start()
        up_at = time.monotonic()
        time.sleep(10)
        stop.set()
        client.join(timeout=30)
    finally:
        stop.set()
        server.stop()

    accepted = {a.value for a in answers if 200 <= a.status < 300}
    while_down = [a for a in answers if down_at + 0.5 < a.at < restart_began]
    errors = [a for a in answers if a.status >= 500 and a.status != 503 or a.status == 0]
    back = [a.at for a in answers if a.at > up_at and 200 <= a.status < 300]
    recovery = (back[0] - up_at) if back else float("inf")
    with psycopg.connect(postgres_cluster.url.replace("postgres://", "postgresql://")) as connection:
        stored = stored_values(connection, "faults.steady")
    lost = accepted - stored

    record_none(
        bench,
        "faults: postgres down 20 s, 2xx items lost",
        len(lost),
        unit="items",
        out_of=len(accepted),
        of="items answered 2xx",
    )
    record_none(
        bench,
        "faults: postgres down 20 s, answers other than 503 while down",
        len([a for a in while_down if a.status != 503]),
        unit="answers",
        out_of=len(while_down),
        of="answers while down",
    )
    record_none(
        bench,
        "faults: postgres down 20 s, 5xx other than 503 (or no answer)",
        len(errors),
        unit="answers",
        out_of=len(answers),
        of="answers in all",
    )
    bench.record(
        name="faults: postgres down 20 s, recovery after restart",
        value=recovery,
        unit="s",
        baseline="outage",
        baseline_value=OUTAGE_SECONDS,
        goal=f"<= {RECOVERY_GOAL_SECONDS:g} s",
        met=recovery <= RECOVERY_GOAL_SECONDS,
    )

    assert len(accepted) > 100, server.log_tail()
    assert len(while_down) > 20
    assert [a.status for a in while_down if a.status != 503] == []
    assert errors == [], f"{len(errors)} answers were 5xx other than 503 or none:\n{server.log_tail()}"
    assert recovery <= RECOVERY_GOAL_SECONDS, f"ingest answered 2xx again only after {recovery:.1f} s"
    assert not lost, f"{len(lost)} points answered 2xx are not stored, e.g. {sorted(lost)[:10]}"
