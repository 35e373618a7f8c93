"""The real @sentry/node, unchanged, sends to the portal served by gunicorn as the Procfile
runs it (the SDK streams every body chunked): streamed spans become transactions, and its
sessions give the release's crash-free numbers.

Needs node and npm; @sentry/node is installed by the test itself into var/e2e-npm (kept
between runs), and the test is skipped with the reason when node or npm is missing."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.server import ROOT, Gunicorn, manage, server_environment

SENTRY_NODE = "11.12.0"
CACHE = Path(__file__).resolve().parents[2] / "var" / "e2e-npm" / f"sentry-node-{SENTRY_NODE}"

# Two traces of one route, one failing with a child span each; a handled error; then an
# uncaught TypeError, which ends the process and its session as crashed.
SCRIPT = """
const Sentry = require('@sentry/node');
Sentry.init({dsn: process.env.DSN, release: 'node-app@1.0.0', environment: 'e2e', tracesSampleRate: 1.0});
Sentry.startSpan({name: 'GET /orders', op: 'http.server'}, () => {
  Sentry.startSpan({name: 'db.query', op: 'db'}, () => {});
});
Sentry.startSpan({name: 'GET /orders', op: 'http.server'}, (span) => {
  Sentry.startSpan({name: 'db.query', op: 'db'}, () => {});
  span.setStatus({code: 2, message: 'internal_error'});
});
Sentry.captureException(new Error('handled one'));
Sentry.flush(5000).then(() => setTimeout(() => { throw new TypeError('boom'); }, 10));
"""


@pytest.fixture(scope="module")
def sentry_node() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed to run @sentry/node (apt-get install nodejs npm)"
        if os.environ.get("LOOKOUT_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    modules = CACHE / "node_modules"
    if not (modules / "@sentry" / "node" / "package.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", f"@sentry/node@{SENTRY_NODE}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return modules


STORED = """
import json
from monitoring.errors.selectors import release_health
from monitoring.models import EnvelopeOutcome, ErrorIssue, Project
from monitoring.telemetry.selectors.metrics import query
from monitoring.telemetry.services.rollups import rollups_build
rollups_build()
project = Project.objects.get(slug="shop")
health = release_health(project=project, release="node-app@1.0.0")
def count(name, agg="count"):
    return query(project, name, {"transaction": "GET /orders"}, agg=agg).buckets[0].value
print(json.dumps({
    "durations": count("transaction.duration"),
    "failure_rate": count("transaction.failed", "avg"),
    "child_points": query(project, "transaction.duration", {"transaction": "db.query"}, agg="count").buckets[0].value,
    "outcomes": list(EnvelopeOutcome.objects.filter(from_client=False).values_list("category", "reason", "quantity")),
    "issues": sorted(ErrorIssue.objects.values_list("title", flat=True)),
    "health": [health.sessions, health.crashed, health.crash_free_sessions],
}))
"""


def _run(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_node_app(sentry_node: Path, tmp_path: Path, script: str) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    """A fresh portal under gunicorn (as the Procfile runs it), and `script` run by node against
    its "shop" project's DSN; the portal's environment (for reading back) and node's run."""
    env = server_environment(tmp_path)
    manage(env, "migrate", "--noinput")
    project = _run(env, "createproject", "Shop", "--slug", "shop", "--json")
    server = Gunicorn(env=env, log_path=tmp_path / "gunicorn.log", workers=1)
    try:
        server.wait_until_serving("/health/live")
        app = tmp_path / "app.js"
        app.write_text(script)
        public_key = project["dsn"].split("//", 1)[1].split("@", 1)[0]
        node_env = {
            "PATH": env["PATH"],
            "NODE_PATH": str(sentry_node),
            "DSN": f"http://{public_key}@{server.host}:{server.port}/{project['id']}",
        }
        run = subprocess.run(["node", str(app)], env=node_env, capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    return env, run


def test_node_spans_sessions_and_errors_arrive(sentry_node, tmp_path):
    env, run = run_node_app(sentry_node, tmp_path, SCRIPT)
    assert "TypeError: boom" in run.stderr, run.stderr  # the uncaught error ended it, as meant
    stored = _run(env, "shell", "-c", STORED)

    assert stored["durations"] == 2 and stored["failure_rate"] == pytest.approx(0.5)
    assert stored["child_points"] == 0  # child spans are not transactions
    assert stored["outcomes"] == []
    assert {"Error: handled one", "TypeError: boom"} <= set(stored["issues"])
    # The uncaught error crashed the process and its session.
    assert stored["health"] == [1, 1, 0]
