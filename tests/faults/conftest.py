"""Fault tests start their own servers on ports of their own and stop only those: the
machine's shared services (PostgreSQL on 5432, Redis on 6379) are never touched."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from tests.benchmarks.conftest import Recorder
from tests.processes import free_port


class RedisServer:
    """A redis-server of this test's own, with no persistence, that can be stopped and restarted."""

    def __init__(self, tmp_path) -> None:
        self.port = free_port()
        self.folder = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # only the process this test started, by its own handle
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=0.5)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# --- A PostgreSQL cluster of the test's own: initdb into a fresh folder, its own port, stopped
# and started by pg_ctl on that folder only (never the machine's cluster on 5432).

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: as root, the server runs as the postgres user, who
        # must own the folder and reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="lookout-faults-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
            self.folder.chmod(0o755)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/lookout"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [*(["runuser", "-u", "postgres", "--"] if self._as_postgres else []), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "lookout")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def postgres_cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 is not installed in {PG_BIN}")
    cluster = PostgresCluster()
    cluster.init()
    yield cluster
    cluster.remove()


# --- Figures, through the benchmark harness's Recorder, merged into benchmarks.json: the fault
# suite runs as its own step after the benchmarks and must not erase their figures.

_FIGURES = pytest.StashKey[list]()
FAULTS = os.environ.get("LOOKOUT_FAULTS") == "1"
# The slow fault tests run in their own CI step (LOOKOUT_FAULTS=1), not in each test pass.
only_in_fault_suite = pytest.mark.skipif(not FAULTS, reason="the fault suite runs in its own step: LOOKOUT_FAULTS=1")


@pytest.fixture
def bench(request) -> Recorder:
    return Recorder(request.config.stash.setdefault(_FIGURES, []))


def pytest_sessionfinish(session):
    figures = session.config.stash.get(_FIGURES, [])
    # The quick fault tests (Redis) also run in every test pass; only the fault suite publishes
    # figures, so a plain pass neither writes benchmarks.json nor mixes its figures in.
    if not figures or not FAULTS:
        return
    path = session.config.rootpath / "benchmarks.json"
    kept = json.loads(path.read_text()) if path.exists() else []
    names = {f.name for f in figures}
    merged = [f for f in kept if f["name"] not in names] + [asdict(f) for f in figures]
    path.write_text(json.dumps(merged, indent=2) + "\n")


# --- What the ingest fault tests share: a project made as an operator makes it, and the
# values of a metric that reached the database.

STORED_VALUES = (
    "SELECT p.value FROM monitoring_metricpoint p JOIN monitoring_metricseries s ON s.id = p.series_id"
    " WHERE s.name = %s"
)


def record_none(bench: Recorder, name: str, found: int, *, unit: str, out_of: int, of: str) -> None:
    """A figure whose goal is none at all (items lost, errors, probes run twice): how many
    there were, against how many there could have been."""
    bench.record(name=name, value=found, unit=unit, baseline=of, baseline_value=out_of, goal="0", met=found == 0)


def project_ingest_key(env: dict[str, str], name: str) -> str:
    """`manage.py createproject` against the server's database; returns the public ingest key."""
    from tests.benchmarks.server import ROOT

    done = subprocess.run(
        [sys.executable, "manage.py", "createproject", name, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return urlsplit(json.loads(done.stdout)["dsn"]).username or ""


def stored_values(connection, metric: str, *, placeholder: str = "%s") -> set[int]:
    """The values of `metric` stored, through a DB-API connection (psycopg or sqlite3)."""
    rows = connection.execute(STORED_VALUES.replace("%s", placeholder), [metric]).fetchall()
    return {int(value) for (value,) in rows}
