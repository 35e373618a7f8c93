"""The web process's gunicorn settings: WEB_CONCURRENCY workers when set, else (2 × cores) + 1;
a line per request only when WEB_ACCESS_LOG asks for one."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setting(name: str, **env: str) -> str:
    # In a fresh interpreter: settings are read once, when gunicorn loads the config file.
    environment = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "WEB_ACCESS_LOG")} | env
    done = subprocess.run(
        [sys.executable, "-c", f"import config.gunicorn as g; print(g.{name})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _workers(**env: str) -> int:
    return int(_setting("workers", **env))


def test_without_web_concurrency_each_core_the_process_may_use_gets_two_workers_and_one_more():
    assert _workers() == 2 * len(os.sched_getaffinity(0)) + 1


def test_web_concurrency_wins():
    assert _workers(WEB_CONCURRENCY="3") == 3


def test_an_empty_web_concurrency_is_unset():
    assert _workers(WEB_CONCURRENCY="") == 2 * len(os.sched_getaffinity(0)) + 1


def test_no_access_log_unless_asked_for():
    assert _setting("accesslog") == "None"
    assert _setting("accesslog", WEB_ACCESS_LOG="") == "None"
    assert _setting("accesslog", WEB_ACCESS_LOG="-") == "-"
    assert _setting("accesslog", WEB_ACCESS_LOG="/var/log/lookout/access.log") == "/var/log/lookout/access.log"
