"""The Procfile's Celery processes (worker, beat) for benchmarks that measure the whole
pipeline, over a Redis database of the benchmark's own that is emptied first."""

import subprocess
import sys

import pytest

from tests.benchmarks.server import ROOT


def empty_redis_broker(url: str) -> None:
    """Empty the benchmark's broker database, or skip when Redis is not there."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError as exc:
        pytest.skip(f"this benchmark needs Redis ({url}): {exc}")


def celery(env: dict[str, str], log, *args: str) -> subprocess.Popen:
    """`celery -A config <args>` in its own session, its output into `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    """Celery's warm shutdown, then a kill if it does not finish."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
