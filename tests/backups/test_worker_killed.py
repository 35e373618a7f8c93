"""A worker killed mid-backup (SIGKILL: no cleanup code runs) leaves a failed run and no artifact."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.utils import timezone

from backups.models import FailureKind, Run, Status
from backups.services.runs import runs_reap
from tests.processes import current_database_url


@pytest.fixture
def slow_source(tmp_path):
    """Enough rows that the JSON Lines export takes seconds, so the kill lands mid-run."""
    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, body TEXT)")
        conn.executemany(
            "INSERT INTO events (kind, body) VALUES (?, ?)", (("click", f"payload {i} " * 8) for i in range(400_000))
        )
    return path


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_a_failed_run_and_no_artifact(make_plan, slow_source, backups_dir):
    plan = make_plan(
        name="events", source="sqlite", sqlite_path=str(slow_source), kind_database=False, kind_export=True
    )
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "BACKUPS_DIR": str(backups_dir),
        "SECRET_KEY": "x" * 60,
        "LOOKOUT_DATA_DIR": str(settings.DATA_DIR),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "backup", "events"], env=env, cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        partial = None
        while time.monotonic() < deadline:
            run = Run.objects.filter(plan=plan).first()
            if run and run.storage_key and (backups_dir / (run.storage_key + ".partial")).exists():
                partial = backups_dir / (run.storage_key + ".partial")
                break
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.05)
        assert partial is not None, "the backup never started writing"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert Run.objects.get().status == Status.RUNNING  # nobody was left to say otherwise
    reaped = runs_reap(now=timezone.now())
    assert reaped.runs == 1 and reaped.partials_removed == 1
    run = Run.objects.get()
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.WORKER_LOST
    assert list(backups_dir.rglob("*.age*")) == []
