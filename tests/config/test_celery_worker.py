"""A real Celery worker, over the configured broker, runs a task against the test database.

The worker is its own process, as in production: it finds the test database only through
the environment it is given, so this also checks that settings come from the environment.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone
from kombu import Exchange, Queue

from monitoring.common.request_context import request_id_var
from monitoring.health.tasks import housekeeping
from monitoring.models import Pulse
from tests.processes import current_database_url

pytestmark = pytest.mark.celery_worker

ROOT = Path(settings.BASE_DIR)
# Starting the interpreter, Django and the pool takes a few seconds; a loaded CI machine more.
WAIT_SECONDS = 60


class Worker:
    def __init__(self, *, queue: str, hostname: str, log_path: Path):
        self.queue, self.hostname, self.log_path = queue, hostname, log_path
        env = {
            **os.environ,
            "LOOKOUT_READ_DOT_ENV": "0",
            "LOOKOUT_DATA_DIR": str(settings.DATA_DIR),
            "DATABASE_URL": current_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "SENTRY_DSN": "",
        }
        self._log = log_path.open("wb")
        # A queue of its own, so no other worker on a shared broker takes the task.
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                queue,
                "--hostname",
                hostname,
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def json_records(self) -> list[dict]:
        records = []
        for line in self.log_lines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # Celery's startup banner is plain text
        return records

    def stop(self) -> None:
        # SIGTERM to the main process is Celery's warm shutdown: it stops its own pool.
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever is left of the worker's process group, e.g. after a hang
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def worker(transactional_db, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    running = Worker(queue=f"test-{suffix}", hostname=f"test-{suffix}@lookout", log_path=tmp_path / "worker.log")
    try:
        yield running
    finally:
        running.stop()
        # Leave no queue or binding behind on a shared broker. A channel deletes only the
        # bindings it knows, so it declares the worker's queue (as Celery made it) first.
        with current_app.connection_for_write() as broker:
            queue = Queue(
                running.queue, Exchange(running.queue), routing_key=running.queue, channel=broker.default_channel
            )
            queue.declare()
            queue.delete()
            queue.exchange.delete()


def _wait_for(condition, worker: Worker, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.process.poll() is not None:
            break
        time.sleep(0.2)
    tail = "\n".join(worker.log_lines()[-40:])
    pytest.fail(f"{what} (worker exit code {worker.process.poll()}); worker log:\n{tail}")


def test_task_sent_through_the_broker_runs_in_the_worker_and_writes_the_database(worker):
    stale = Pulse.objects.create(kind="worker", name="gone@old-host", last_seen_at=timezone.now() - timedelta(days=8))
    request_id = f"req-{uuid.uuid4().hex}"

    token = request_id_var.set(request_id)
    try:
        housekeeping.apply_async(queue=worker.queue)
    finally:
        request_id_var.reset(token)

    # The worker's own pulse: its bootstep wrote to the test database when it started.
    _wait_for(
        lambda: Pulse.objects.filter(kind="worker", name=worker.hostname).exists(),
        worker,
        "the worker never recorded its pulse",
    )
    _wait_for(
        lambda: not Pulse.objects.filter(pk=stale.pk).exists(), worker, "housekeeping never removed the stale pulse"
    )

    # The request that enqueued the task is named in the task's log lines.
    def task_logged_with_request_id():
        return any(
            record.get("request_id") == request_id and "succeeded" in record.get("message", "")
            for record in worker.json_records()
        )

    _wait_for(task_logged_with_request_id, worker, f"no 'succeeded' log line carries request id {request_id}")
