"""The web process's worker count: WEB_CONCURRENCY when set, else (2 × cores) + 1."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _workers(**env: str) -> int:
    # In a fresh interpreter: the count is read once, when gunicorn loads the config file.
    environment = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"} | env
    done = subprocess.run(
        [sys.executable, "-c", "import config.gunicorn as g; print(g.workers)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_without_web_concurrency_each_core_the_process_may_use_gets_two_workers_and_one_more():
    assert _workers() == 2 * len(os.sched_getaffinity(0)) + 1


def test_web_concurrency_wins():
    assert _workers(WEB_CONCURRENCY="3") == 3


def test_an_empty_web_concurrency_is_unset():
    assert _workers(WEB_CONCURRENCY="") == 2 * len(os.sched_getaffinity(0)) + 1
