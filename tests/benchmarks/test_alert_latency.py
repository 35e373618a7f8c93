"""From a breach to its page: a metric point over a rule's threshold is POSTed to the
ingest API, and the clock stops when the rule's webhook notification reaches a local sink.

A breach is a metric that crosses the threshold and stays over it (its service reports
the high value every second) until the page arrives. Everything runs as production runs it:
gunicorn for ingest, the Celery worker and beat of the Procfile over Redis, on PostgreSQL.
In between: the rollup tick, the evaluator tick, the rule's own interval, the incident's
first notification round and the notify worker. Each breach is its own metric and rule, so
each is one incident and one delivery. Goal: p95 at
most the rule's evaluation interval plus 5 s. Baseline: the interval itself.
"""

import json
import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.benchmarks.celery_processes import celery, empty_redis_broker, stop
from tests.benchmarks.conftest import QUICK
from tests.benchmarks.server import Gunicorn, manage
from tests.benchmarks.telemetry_support import bench_environment, drop_database, fresh_database, in_django

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lookout_bench_alerts"
BROKER_URL = "redis://127.0.0.1:6379/13"
INTERVAL = 30  # the rules' evaluation interval, seconds
BREACHES, SPACING = (6, 4.0) if QUICK else (30, 3.0)  # breaches, and seconds between them


class Sink:
    """A webhook receiver on loopback that notes when each rule's first page arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                for alert in body.get("alerts", []):
                    if alert.get("status") == "firing":
                        sink.arrived.setdefault(alert["labels"].get("alertname", ""), time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def portal(tmp_path):
    empty_redis_broker(BROKER_URL)
    fresh_database(DATABASE_URL)
    env = bench_environment(
        tmp_path / "data", CELERY_BROKER_URL=BROKER_URL, LOG_LEVEL="WARNING", TELEMETRY_RATE_PER_SECOND="0"
    )
    env["DATABASE_URL"] = DATABASE_URL
    manage(env, "migrate", "--noinput")
    sink = Sink()
    made = in_django(
        env,
        f"""
import json
from alerts.models import AlertRule, Channel
from alerts.rules.kinds import RULE_KINDS
from monitoring.projects.services.projects import project_create
new = project_create(name="Latency")
channel = Channel.objects.create(name="sink", kind="webhook", config={{"url": "{sink.url}"}}, allow_private=True)
for n in range({BREACHES}):
    rule = AlertRule.objects.create(
        project=new.project, name=f"breach-{{n}}", kind="metric_threshold", severity="critical",
        params=RULE_KINDS["metric_threshold"].validate_params({{
            "metric": f"bench.latency.{{n}}", "agg": "max", "window_minutes": 1, "operator": "gt", "threshold": 1000}}),
        interval_seconds={INTERVAL}, group_wait_seconds=0)
    rule.channels.add(channel)
print(json.dumps({{"key": new.key.key.public_key}}))
""",
    )
    log = (tmp_path / "processes.log").open("wb")
    web = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log")
    worker = celery(
        env,
        log,
        "worker",
        "--queues",
        "default,ingest,notify",
        "--concurrency",
        "2",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    )
    beat = celery(env, log, "beat", "--loglevel", "WARNING")
    try:
        web.wait_until_serving("/health/live")
        yield web, made["key"], sink, tmp_path, env
    finally:
        for process in (beat, worker):
            stop(process)
        web.stop()
        log.close()
        sink.server.shutdown()
        drop_database(DATABASE_URL)


def _state(env) -> dict:
    """What the pipeline holds, for a failure message: where the missing pages stopped."""
    return in_django(
        env,
        """
import json
from alerts.models import AlertRule, DeliveryAttempt, Incident, Notification, RuleInstance
from monitoring.models import MetricRollup, MetricSeries, RollupBacklog
print(json.dumps({
    "rules": sorted((r.name, str(r.last_evaluated_at), r.last_error) for r in AlertRule.objects.all()),
    "series": sorted(MetricSeries.objects.values_list("name", flat=True)),
    "rollups": MetricRollup.objects.count(),
    "backlog": [str(m) for m in RollupBacklog.objects.values_list("minute", flat=True)],
    "instances": sorted(RuleInstance.objects.values_list("rule__name", "state")),
    "incidents": sorted(Incident.objects.values_list("title", "status")),
    "notifications": sorted(Notification.objects.values_list("incident__title", "status", "last_error")),
    "deliveries": list(DeliveryAttempt.objects.values_list("ok", "status_code", "error")),
}))
""",
    )


def test_breach_to_delivery(portal, bench):
    web, key, sink, tmp_path, env = portal
    time.sleep(INTERVAL)  # every rule evaluated once on no data, so the next evaluation sees the breach
    # A breach is a metric that goes over its threshold and stays there: its service keeps
    # reporting the high value every second until somebody is paged.
    breached_at: dict[str, float] = {}
    connection = HTTPConnection(web.host, web.port, timeout=30)
    deadline = time.time() + BREACHES * SPACING + 3 * INTERVAL
    while time.time() < deadline and len(sink.arrived) < BREACHES:
        started = len(breached_at)
        if started < BREACHES and time.time() >= (breached_at.get(f"breach-{started - 1}", 0) + SPACING):
            breached_at[f"breach-{started}"] = time.time()
        points = [
            {"name": f"bench.latency.{name.rsplit('-', 1)[1]}", "value": 5000, "unit": "ms"}
            for name in breached_at
            if name not in sink.arrived
        ]
        if points:
            connection.request(
                "POST",
                "/api/v1/metrics",
                body=json.dumps({"points": points}),
                headers={"Content-Type": "application/json", "X-Lookout-Key": key},
            )
            response = connection.getresponse()
            assert response.status == 200, response.read()
            response.read()
        time.sleep(1.0)
    connection.close()
    latencies = sorted(sink.arrived[name] - at for name, at in breached_at.items() if name in sink.arrived)
    assert latencies, (tmp_path / "processes.log").read_text(errors="replace")[-3000:]
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    bench.record(
        name=f"breach to delivery p95 ({len(latencies)} of {BREACHES} pages, {INTERVAL} s rules)",
        value=p95,
        unit="s",
        baseline="evaluation interval",
        baseline_value=INTERVAL,
        goal=f"<= {INTERVAL + 5} s",
        met=p95 <= INTERVAL + 5 and len(latencies) == BREACHES,
    )
    bench.record(
        name="breach to delivery median",
        value=latencies[len(latencies) // 2],
        unit="s",
        baseline="evaluation interval",
        baseline_value=INTERVAL,
        goal="-",
        met=True,
    )
    assert len(latencies) == BREACHES, f"only {len(latencies)} of {BREACHES} breaches were paged: {_state(env)}"
    if not QUICK:
        assert p95 <= INTERVAL + 5, f"p95 {p95:.1f} s"
