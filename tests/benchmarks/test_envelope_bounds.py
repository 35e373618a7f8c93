"""The slowest envelope the protocol's bounds let in, against the web worker's timeout.

An envelope may carry one event (up to ERRORS_MAX_EVENT_BYTES), MAX_SESSIONS sessions,
MAX_SPANS spans and MAX_ITEMS items in all (monitoring/errors/envelope.py). Each shape
below fills one of those bounds with the most expensive things it can hold; the slowest
of them must end within a tenth of gunicorn's timeout (its default, 30 s, as the Procfile
runs it), so no allowed request can hold a worker until it is killed. The envelope that
held a worker for 30.6 s before the bounds (40,000 events in 5.2 MB) is measured too: it
is now refused before anything is stored.

Run alone: `.venv/bin/pytest tests/benchmarks/test_envelope_bounds.py -p no:cacheprovider`
(PostgreSQL on 127.0.0.1:5432; LOOKOUT_BENCH_QUICK=1 takes one sample per shape).
"""

import gzip
import json
import time
import uuid
from http.client import HTTPConnection

import pytest
from gunicorn.config import Config

from monitoring.errors.envelope import MAX_ITEMS, MAX_OF_TYPE, MAX_SESSIONS, MAX_SPANS
from tests.benchmarks.server import Gunicorn, manage
from tests.benchmarks.telemetry_support import bench_environment, drop_database, fresh_database, in_django

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lookout_bench_envelope_bounds"
MAX_EVENT_BYTES = 1024 * 1024  # settings.ERRORS_MAX_EVENT_BYTES' default
TIMEOUT_SHARE = 0.1


def item(payload: dict | bytes, type_: str) -> bytes:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return json.dumps({"type": type_, "length": len(body)}).encode() + b"\n" + body + b"\n"


def envelope(*items: bytes, event_id: str = "") -> bytes:
    return json.dumps({"event_id": event_id} if event_id else {}).encode() + b"\n" + b"".join(items)


def largest_event() -> dict:
    """An event just under the size bound, made of what costs most to scrub and group: a
    deep stack of frames with source context and locals (every string is scrubbed)."""
    frames = []
    event = {"event_id": uuid.uuid4().hex, "level": "error", "platform": "python", "release": "shop@1.0"}
    event["exception"] = {"values": [{"type": "ValueError", "value": "boom", "stacktrace": {"frames": frames}}]}
    n = 0
    while len(json.dumps(event)) < MAX_EVENT_BYTES - 4_000:
        frames.append(
            {
                "filename": f"app/module_{n}.py",
                "function": f"handler_{n}",
                "lineno": n,
                "in_app": True,
                "pre_context": [f"    token_{i} = compute({i}, user='ann@example.com')" for i in range(5)],
                "context_line": "    password = 'hunter2'; url = 'postgres://app:pw@db/app'",
                "post_context": [f"    return result_{i}" for i in range(5)],
                "vars": {f"local_{i}": f"value {i} card 4111 1111 1111 1111" for i in range(10)},
            }
        )
        n += 1
    return event


def session(n: int) -> dict:
    return {"sid": uuid.uuid4().hex, "did": f"user-{n}", "status": "exited", "init": True, "attrs": {"release": "1.0"}}


def shapes() -> dict[str, bytes]:
    now = time.time()
    event = largest_event()
    sessions = [item(session(n), "session") for n in range(MAX_SESSIONS)]
    # What room is left after the sessions is filled with the dearest items, as far as their
    # own bounds allow, and then attachments (read, counted, not stored).
    rest = MAX_ITEMS - 1 - MAX_SESSIONS - MAX_OF_TYPE["check_in"] - MAX_OF_TYPE["user_report"]
    attachments = [item(b"x" * 10_000, "attachment") for _ in range(rest)]
    reports = [
        item({"event_id": uuid.uuid4().hex, "name": "Ann", "comments": "it broke " * 100}, "user_report")
        for _ in range(MAX_OF_TYPE["user_report"])
    ]
    check_ins = [
        item(
            {
                "check_in_id": uuid.uuid4().hex,
                "monitor_slug": f"job-{n}",
                "status": "ok",
                "duration": 1.5,
                "monitor_config": {"schedule": {"type": "crontab", "value": "* * * * *"}},
            },
            "check_in",
        )
        for n in range(MAX_OF_TYPE["check_in"])
    ]
    spans = {
        "version": 2,
        "items": [
            {
                "span_id": f"{n:016x}",
                "trace_id": uuid.uuid4().hex,
                "name": f"GET /route/{n % 50}",
                "is_segment": True,
                "start_timestamp": now - 1,
                "end_timestamp": now,
                "status": "ok",
            }
            for n in range(MAX_SPANS)
        ],
    }
    return {
        f"one event of {MAX_EVENT_BYTES // 1024} KiB (deep stack, locals, context)": envelope(
            item(event, "event"), event_id=event["event_id"]
        ),
        f"event + {MAX_SESSIONS} sessions + {len(check_ins)} check-ins + {len(reports)} user reports"
        f" + {rest} attachments": envelope(
            item(event, "event"), *sessions, *check_ins, *reports, *attachments, event_id=event["event_id"]
        ),
        f"{MAX_SPANS} segment spans": envelope(item(spans, "span")),
    }


def attack() -> bytes:
    """What held a worker for 30.6 s before the bounds: 40,000 small events."""
    return envelope(*(item({"event_id": uuid.uuid4().hex, "message": f"e{n}"}, "event") for n in range(40_000)))


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
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log", workers=1)
    try:
        server.wait_until_serving("/health/live")
        yield server, new["key"], new["project"]
    finally:
        server.stop()
        drop_database(DATABASE_URL)


def send(server, key: str, project_id: int, body: bytes) -> tuple[int, float, bytes]:
    """POST one gzipped envelope as sentry-sdk does; its status, seconds and answer."""
    compressed = gzip.compress(body)
    connection = HTTPConnection(server.host, server.port, timeout=120)
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": "gzip",
        "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=bench/1, sentry_key={key}",
    }
    try:
        started = time.perf_counter()
        connection.request("POST", f"/api/{project_id}/envelope/", body=compressed, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        return response.status, time.perf_counter() - started, answer
    finally:
        connection.close()


def test_the_slowest_allowed_envelope_ends_well_inside_the_worker_timeout(portal, bench, quick):
    server, key, project_id = portal
    timeout = Config().timeout  # gunicorn's default; the Procfile and config/gunicorn.py keep it
    samples = 1 if quick else 3
    times: dict[str, float] = {}
    for name, body in shapes().items():
        seconds = []
        for _ in range(samples):
            # A new event id each time, so every sample stores its event instead of de-duplicating.
            fresh = body.replace(body[14:46], uuid.uuid4().hex.encode()) if body.startswith(b'{"event_id"') else body
            status, elapsed, answer = send(server, key, project_id, fresh)
            assert status == 200, (name, answer[:300], server.log_tail())
            seconds.append(elapsed)
        times[name] = max(seconds)
    slowest_name = max(times, key=times.__getitem__)
    slowest = times[slowest_name]
    for name, value in times.items():
        print(f"{name}: {value * 1000:.0f} ms")

    status, refused_seconds, answer = send(server, key, project_id, attack())
    assert status == 400 and b"items" in answer, answer[:300]

    bench.record(
        name=f"slowest allowed envelope ({slowest_name})",
        value=slowest * 1000,
        unit="ms",
        baseline="gunicorn worker timeout",
        baseline_value=timeout * 1000,
        goal=f"<= {TIMEOUT_SHARE:.0%} of the timeout",
        met=slowest <= timeout * TIMEOUT_SHARE,
    )
    bench.record(
        name="40,000-event envelope (5 MB) refused",
        value=refused_seconds * 1000,
        unit="ms",
        baseline="gunicorn worker timeout",
        baseline_value=timeout * 1000,
        goal=f"<= {TIMEOUT_SHARE:.0%} of the timeout",
        met=refused_seconds <= timeout * TIMEOUT_SHARE,
    )
    assert slowest <= timeout * TIMEOUT_SHARE, times
    assert refused_seconds <= timeout * TIMEOUT_SHARE
