"""A throwaway PostgreSQL database for the telemetry benchmarks, and a way to run code
against it in a Django process of its own (the benchmark process itself keeps its test
settings). The database is made fresh and dropped after; nobody's data is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.benchmarks.server import ROOT, manage, server_environment

# One database per run (the process id in its name): two people running `make bench` at
# once must not drop each other's data mid-measurement.
BENCH_DATABASE_URL = os.environ.get(
    "LOOKOUT_BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/lookout_bench_telemetry_{os.getpid()}"
)


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl(), parts.path.lstrip("/")


def fresh_database(url: str = BENCH_DATABASE_URL) -> None:
    admin, name = _admin_url(url)
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"the telemetry benchmarks need PostgreSQL ({admin}): {exc}")
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str = BENCH_DATABASE_URL) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = server_environment(data_dir)
    env.update(DATABASE_URL=BENCH_DATABASE_URL, **extra)
    return env


def migrated(data_dir: Path, **extra: str) -> dict[str, str]:
    fresh_database()
    env = bench_environment(data_dir, **extra)
    manage(env, "migrate", "--noinput")
    return env


def in_django(env: dict[str, str], code: str) -> dict:
    """Run `code` with Django set up; it must print one JSON object as its last line."""
    script = "import django; django.setup()\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"benchmark helper failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
