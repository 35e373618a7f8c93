"""The real sentry-sdk 3.x, unchanged, sends to a live Lookout: an exception with its release
and environment, streamed spans, a session and a cron check-in, each found where a user looks
for it (the issue, the performance figures, the release's health, the monitor's pings);
and an uncaught error, with the SDK's own integrations, crashes its session.

The portal itself runs on sentry-sdk 2.x (tests/monitoring/errors/test_sentry_sdk.py drives
that one), so the newest 3.x is installed from PyPI into var/e2e-pip (kept between runs; delete
it to take a newer release) and runs in a child process whose PYTHONPATH puts it ahead of 2.x.
Without the registry the test is skipped with the reason, unless LOOKOUT_REQUIRE_SDK3=1 or
CI=true says it must run."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitoring.errors.performance import transaction_summary
from monitoring.errors.selectors import release_health
from monitoring.models import EnvelopeOutcome, ErrorEvent, ErrorIssue, Heartbeat, HeartbeatPing, Status
from monitoring.projects.models import IngestKey
from monitoring.telemetry.services.rollups import rollups_build
from tests.factories import make_ingest_key

# Issue counters folded after every event, and per-process memories cleared between tests, as
# for the 2.x SDK's tests.
from tests.monitoring.errors.conftest import _fold_after_every_event  # noqa: F401

CACHE = Path(__file__).resolve().parents[2] / "var" / "e2e-pip" / "sentry-sdk-3"
REQUIREMENT = "sentry-sdk>=3,<4"  # the newest 3.x when the cache is filled
RELEASE = "shop@3.1.0"

# Two traces of one route, one failing, each with a child span; a handled KeyError inside a
# session, which the session ends as errored; a cron job run under the monitor decorator.
SCRIPT = """
import json, os, sentry_sdk
from sentry_sdk.crons import monitor

assert sentry_sdk.VERSION.startswith("3."), sentry_sdk.VERSION
sentry_sdk.init(
    dsn=os.environ["DSN"], release=os.environ["RELEASE"], environment="e2e", traces_sample_rate=1.0,
    default_integrations=False,
)
sentry_sdk.start_session()
for failed in (False, True):
    with sentry_sdk.start_span(name="GET /orders", attributes={"sentry.op": "http.server"}) as span:
        with sentry_sdk.start_span(name="db.query", attributes={"sentry.op": "db"}):
            pass
        if failed:
            span.status = "error"

def checkout(order):
    raise KeyError(f"order {order} has no total")

try:
    checkout(7)
except KeyError:
    event_id = sentry_sdk.capture_exception()

@monitor(monitor_slug="nightly-export", monitor_config={
    "schedule": {"type": "crontab", "value": "0 3 * * *"}, "checkin_margin": 5, "max_runtime": 30,
})
def nightly():
    return "done"

nightly()
sentry_sdk.end_session()
sentry_sdk.flush(timeout=10)
print(json.dumps({"version": sentry_sdk.VERSION, "event_id": event_id}))
"""


def _required() -> bool:
    return os.environ.get("LOOKOUT_REQUIRE_SDK3") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def sentry_sdk3() -> Path:
    if not (CACHE / "sentry_sdk" / "__init__.py").exists():
        # --no-deps: its two dependencies (urllib3, certifi) are the venv's already, and the
        # directory must hold nothing else that would shadow the venv.
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(CACHE),
                REQUIREMENT,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            reason = f"sentry-sdk 3.x could not be installed from PyPI: {done.stderr.strip()[-300:]}"
            if _required():
                pytest.fail(reason)
            pytest.skip(reason)
    return CACHE


def _run(script: str, sdk_dir: Path, url: str, key: IngestKey) -> subprocess.CompletedProcess[str]:
    """The script in a child Python whose PYTHONPATH puts sentry-sdk 3.x ahead of the venv's 2.x."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(sdk_dir),
        "DSN": f"http://{key.public_key}@{url.split('://', 1)[1]}/{key.project_id}",
        "RELEASE": RELEASE,
    }
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_sentry_sdk3_exception_spans_session_and_check_in_arrive(sentry_sdk3, live_server):
    key = make_ingest_key().key
    run = _run(SCRIPT, sentry_sdk3, live_server.url, key)
    assert run.returncode == 0, run.stderr
    sent = json.loads(run.stdout.strip().splitlines()[-1])
    assert sent["version"].startswith("3.")
    project = key.project
    # Every item was understood and kept: none counted as dropped by the portal (3.x streams
    # spans as `span` v2 items, not the transactions 2.x sends), none reported lost by the SDK.
    assert list(EnvelopeOutcome.objects.filter(project=project).values_list("category", "reason", "quantity")) == []

    # The issue: its type, message, where it was raised, and the release and environment.
    issue = ErrorIssue.objects.get(project=project)
    assert issue.type == "KeyError"
    assert issue.title == "KeyError: 'order 7 has no total'"
    assert {(s.dimension, s.value) for s in issue.seen_in.all()} == {("release", RELEASE), ("environment", "e2e")}
    event = ErrorEvent.objects.get(event_id=sent["event_id"].replace("-", ""))
    frames = event.payload["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "checkout"
    assert (event.release, event.environment) == (RELEASE, "e2e")

    # The performance view's figures: two transactions of the route, one failed; the child
    # spans are not transactions of their own.
    rollups_build()
    orders = transaction_summary(project, name="GET /orders", window=timedelta(hours=24))
    assert orders.count == 2 and orders.failure_rate == pytest.approx(0.5)
    assert orders.p50 is not None and orders.p50 >= 0
    assert transaction_summary(project, name="db.query", window=timedelta(hours=24)).count == 0

    # Release health: one session, errored by the handled exception, not crashed.
    health = release_health(project=project, release=RELEASE)
    assert (health.sessions, health.errored, health.crashed) == (1, 1, 0)
    assert health.crash_free_sessions == 1

    # The cron monitor: created from the decorator's config, its start and success recorded.
    heartbeat = Heartbeat.objects.get(target__name="nightly-export")
    assert (heartbeat.cron, heartbeat.max_runtime_seconds) == ("0 3 * * *", 1800)
    kinds = list(HeartbeatPing.objects.filter(heartbeat=heartbeat).order_by("id").values_list("kind", flat=True))
    assert kinds == [HeartbeatPing.Kind.START, HeartbeatPing.Kind.SUCCESS]
    # The run time is the one the job reported (a fraction of a second), not a made-up gap.
    assert HeartbeatPing.objects.get(heartbeat=heartbeat, kind=HeartbeatPing.Kind.SUCCESS).duration_ms < 5000
    assert heartbeat.target.status == Status.UP


# The SDK's own integrations on: an uncaught error reaches sys.excepthook, which reports it
# unhandled and ends the running session as crashed before the process exits.
CRASH = """
import os, sentry_sdk
sentry_sdk.init(dsn=os.environ["DSN"], release=os.environ["RELEASE"], environment="e2e")
sentry_sdk.start_session()
raise TypeError("boom")
"""


@pytest.mark.django_db(transaction=True)
def test_sentry_sdk3_uncaught_error_crashes_its_session(sentry_sdk3, live_server):
    key = make_ingest_key().key
    run = _run(CRASH, sentry_sdk3, live_server.url, key)
    assert "TypeError: boom" in run.stderr, run.stderr  # the uncaught error ended it, as meant

    issue = ErrorIssue.objects.get(project=key.project)
    assert issue.title == "TypeError: boom"
    event = ErrorEvent.objects.get(issue=issue)
    assert event.payload["exception"]["values"][-1]["mechanism"]["handled"] is False
    health = release_health(project=key.project, release=RELEASE)
    assert (health.sessions, health.crashed, health.crash_free_sessions) == (1, 1, 0)
