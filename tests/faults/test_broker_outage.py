"""Redis, as both the Celery broker and the cache, stopped for 20 s under steady ingest:
ingest never fails, and probes, rules and pages catch up once it is back.

The portal runs as production does: gunicorn, one worker on the Procfile's queues and beat,
over PostgreSQL and a Redis of the test's own holding the broker (db 0) and the cache (db 1),
so the outage takes both at once, as it does in production. A client posts one metric point after another; a
target probed every 10 s points at a local server that answers 503, and a target-status rule
pages a webhook channel on a local sink. The target is made due as the broker is stopped, so
nothing can probe it until the broker returns.

Ingest writes to the database and enqueues nothing, so while the broker is down every answer
is a 2xx and every answered point is stored. Once the broker is back, the worker reconnects,
beat's ticks reach it again, the target goes down and the page reaches the sink once.
"""

import os
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from alerts.models import Channel, EscalationPolicy, EscalationStep
from alerts.rules.kinds import RULE_KINDS
from monitoring.models import Target
from monitoring.uptime.models import Status
from tests.alerts.delivery.sink import serve_sink
from tests.alerts.rules.factories import RuleFactory
from tests.benchmarks.celery_processes import celery, stop
from tests.benchmarks.server import Gunicorn
from tests.factories import ProjectFactory, make_ingest_key
from tests.faults.conftest import only_in_fault_suite, record_none, stored_values
from tests.faults.test_cluster import _until, _wait_ready
from tests.faults.test_postgres_outage import _post
from tests.monitoring.uptime.factories import TargetFactory
from tests.monitoring.uptime.servers import http_app, serve_http
from tests.processes import current_database_url

pytestmark = [only_in_fault_suite, pytest.mark.celery_worker]

OUTAGE_SECONDS = 20.0
METRIC = "faults.steady"  # the name _post sends
# From the broker's return to the page: the worker's reconnect back-off (2, 4, 6, 8 s steps:
# at most ~10 s after a 20 s outage), the probe dispatch tick (5 s), the probe (timeout 5 s),
# the rule's tick (5 s), the delivery tick (5 s), and slack for two shared cores.
CATCH_UP_SECONDS = 60.0
REPEAT_WATCH_SECONDS = 15.0  # three delivery ticks after the page, for a repeat to show


def test_broker_stopped_for_20_s_fails_no_ingest_and_the_page_catches_up_once(
    transactional_db, tmp_path, redis_server, bench
):
    if connection.vendor != "postgresql":
        pytest.skip("web, worker and beat share the test database over PostgreSQL (DATABASE_URL)")
    env = {
        **os.environ,
        "LOOKOUT_READ_DOT_ENV": "0",
        "LOOKOUT_DATA_DIR": str(settings.DATA_DIR),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": current_database_url(),
        "CELERY_BROKER_URL": redis_server.url,
        "CACHE_URL": redis_server.url.removesuffix("/0") + "/1",
        "CACHE_SOCKET_TIMEOUT": "0.5",
        "SENTRY_DSN": "",
        "LOG_LEVEL": "INFO",
        # The subject is the broker, not the rate limiter.
        "TELEMETRY_RATE_PER_SECOND": "100000",
        "TELEMETRY_RATE_BURST": "100000",
    }
    env.pop("ROOT_URLCONF", None)

    project = ProjectFactory(slug="broker-outage")
    key = make_ingest_key(project).key.public_key
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker", "beat")}
    handles = []
    processes: dict[str, Gunicorn | subprocess.Popen] = {}
    answers: list[tuple[float, int, int]] = []  # (monotonic time, value, status)
    stop_ingest = threading.Event()

    with serve_sink() as sink, serve_http(http_app()) as base_url:
        # Internal: the receiver is on loopback, which only an internal channel may reach.
        channel = Channel.objects.create(
            name="broker-hook", kind=Channel.Kind.WEBHOOK, config={"url": f"{sink.url}/hook"}, allow_private=True
        )
        policy = EscalationPolicy.objects.create(name="broker")
        EscalationStep.objects.create(policy=policy, order=0, delay_minutes=0).channels.add(channel)
        target = TargetFactory(
            project=project,
            name="failing",
            url=f"{base_url}/status/503",
            regions=["local"],
            interval_seconds=10,
            timeout_seconds=5,
            down_after_failures=1,
            next_run_at=timezone.now() + timedelta(days=1),  # made due as the broker stops
        )
        RuleFactory(
            project=project,
            name="Target down",
            kind="target_status",
            interval_seconds=10,
            group_wait_seconds=0,
            escalation_policy=policy,
            params=RULE_KINDS["target_status"].validate_params({"statuses": ["down"], "target_ids": [target.pk]}),
        )

        def ingest(web: Gunicorn) -> None:
            value = 0
            while not stop_ingest.is_set():
                value += 1
                answers.append((time.monotonic(), value, _post(web.host, web.port, key, value)))
                time.sleep(0.02)

        exits: list[str] = []  # why the worker exited, each time it had to be started again
        try:
            web = Gunicorn(env=env, log_path=logs["web"], workers=2)
            processes["web"] = web

            def start_worker() -> None:
                handles.append(logs["worker"].open("ab"))
                processes["worker"] = celery(
                    env,
                    handles[-1],
                    "worker",
                    "--queues",
                    "default,probes,probes.local,notify,ingest,backups",
                    "--hostname",
                    "main@broker",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                )

            start_worker()
            web.wait_until_serving("/health/live")
            _wait_ready(logs["worker"], "main@broker ready", processes["worker"], "worker")
            handles.append(logs["beat"].open("ab"))
            processes["beat"] = celery(env, handles[-1], "beat", "--loglevel", "INFO")
            _wait_ready(logs["beat"], "beat: Starting", processes["beat"], "beat")

            client = threading.Thread(target=ingest, args=(web,), daemon=True)
            client.start()
            time.sleep(5)
            redis_server.stop()
            down_at = time.monotonic()
            Target.objects.filter(pk=target.pk).update(next_run_at=timezone.now())
            time.sleep(OUTAGE_SECONDS)
            status_during_outage = Target.objects.get(pk=target.pk).status
            redis_server.start()
            up_at = time.monotonic()

            def paged() -> bool:
                # Celery/kombu 5.7 can exit a worker whose task is still unacknowledged when the
                # broker drops (restoring it raises "'NoneType' object has no attribute
                # 'hostname'"). Production runs workers under a process manager that restarts
                # them, so the test does the same, counts it, and still holds the catch-up bound.
                if processes["worker"].poll() is not None:
                    lines = logs["worker"].read_text(errors="replace").splitlines()
                    exits.append(next((line for line in lines if "Unrecoverable error" in line), (lines or [""])[-1]))
                    start_worker()
                return any(r.path == "/hook" for r in sink.requests)

            to_page = _until(
                paged,
                "the page never reached the sink after the broker returned",
                seconds=CATCH_UP_SECONDS,
                logs=list(logs.values()),
            )
            time.sleep(REPEAT_WATCH_SECONDS)
            stop_ingest.set()
            client.join(15)
        finally:
            stop_ingest.set()
            for name in ("beat", "worker", "web"):
                process = processes.get(name)
                if isinstance(process, Gunicorn):
                    process.stop()
                elif process is not None:
                    stop(process)
            for handle in handles:
                handle.close()
        requests = list(sink.requests)

    during = [status for at, _, status in answers if down_at <= at <= up_at]
    failed = [status for _, _, status in answers if not 200 <= status < 300]
    accepted = {value for _, value, status in answers if 200 <= status < 300}
    with psycopg.connect(current_database_url()) as db:
        stored = stored_values(db, METRIC)
    pages = Counter(r.headers.get("idempotency-key", "") for r in requests if r.path == "/hook")

    record_none(
        bench,
        "faults: broker stopped 20 s, ingest answers other than 2xx during the outage",
        sum(1 for status in during if not 200 <= status < 300),
        unit="requests",
        out_of=len(during),
        of="requests during the outage",
    )
    bench.record(
        name="faults: broker stopped 20 s, worker exits restarted as a process manager would",
        value=len(exits),
        unit="exits",
        baseline="workers",
        baseline_value=1,
        goal="0 (Celery/kombu 5.7 exits a worker with an unacknowledged task)",
        met=not exits,
    )
    bench.record(
        name="faults: broker stopped 20 s, seconds from its return to the page",
        value=round(to_page, 1),
        unit="s",
        baseline="outage",
        baseline_value=OUTAGE_SECONDS,
        goal=f"<= {CATCH_UP_SECONDS:g} s",
        met=to_page <= CATCH_UP_SECONDS,
    )
    print(
        f"broker outage: {len(answers)} ingest answers ({len(during)} during the outage), "
        f"{Counter(status for _, _, status in answers)}, page {to_page:.1f} s after the broker returned"
    )

    assert len(during) > 100, "ingest did not keep sending through the outage"
    assert failed == [], Counter(failed)
    assert accepted - stored == set(), f"{len(accepted - stored)} answered points are not stored"
    # Nothing could probe while the broker was down; the page came after its return, once.
    assert status_during_outage != Status.DOWN
    assert Target.objects.get(pk=target.pk).status == Status.DOWN
    assert len(pages) == 1 and set(pages.values()) == {1}, pages
