"""The web server as production runs it (gunicorn config.wsgi), on a fresh embedded database.

It runs in its own data folder with the embedded default (SQLite, file cache, filesystem
broker), so a benchmark never migrates or writes into a database named in the caller's
environment.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

from config import gunicorn as gunicorn_settings

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60

# Variables that would point the server at someone's real services or error tracker.
_NOT_INHERITED = ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "SENTRY_DSN", "ROOT_URLCONF")


def server_environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        LOOKOUT_DATA_DIR=str(data_dir),
        LOOKOUT_READ_DOT_ENV="0",
        LOOKOUT_NO_BOOTSTRAP="1",
        DJANGO_SETTINGS_MODULE="tests.benchmarks.server_settings",
        DEBUG="0",  # production behaviour: no debug toolbar-like overhead, no query log
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


class Gunicorn:
    """`gunicorn config.wsgi` with the Procfile's options, on a port the kernel picks."""

    def __init__(self, *, env: dict[str, str], log_path: Path, workers: int | None = None):
        # The listening socket is made here and handed over, so the port is known and no
        # other process can take it between choosing and binding.
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._socket.getsockname()
        # As many workers as production would run here (WEB_CONCURRENCY, or the default).
        self.workers = workers or gunicorn_settings.workers
        self.log_path = log_path
        self._log = log_path.open("wb")
        fd = self._socket.fileno()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"fd://{fd}",
                "--workers",
                str(self.workers),
                "--forwarded-allow-ips",
                "127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_serving(self, path: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if get(self.host, self.port, path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not serve {path} (exit code {self.process.poll()}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self._socket.close()
        self._log.close()


def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    """One GET on a new connection, as a load balancer or monitoring probe sends it."""
    connection = HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# As many requests in flight as a busy site's load balancer keeps open.
CONNECTIONS = 32
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def requests_per_second(
    host: str, port: int, path: str, *, seconds: int, headers: tuple[str, ...] = ()
) -> tuple[float, int]:
    """Requests per second for `seconds` of GETs, CONNECTIONS at a time, and the mean bytes of
    an answer (headers included), as `wrk` counts them. Every answer must be a 200.

    The client shares the two cores with the server, so it is written in C and runs one
    thread: a Python client spent as much CPU per request as the server it measured.
    gunicorn's sync workers close every connection after their answer, so each request
    comes on a new one, as they do from curl in a crontab or a browser behind a proxy."""
    wrk = shutil.which("wrk")
    if wrk is None:
        message = "wrk is missing: install Debian's wrk package (apt-get install wrk)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(
        [*command, f"http://{host}:{port}{path}"], capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    out = done.stdout
    assert "Non-2xx" not in out, f"answers other than 200 from {path}:\n{out}"
    read = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)([KMG]?B) read", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert read and rate, f"wrk printed no totals:\n{out}\n{done.stderr}"
    count, size, unit = read.groups()
    return float(rate.group(1)), int(float(size) * _UNITS[unit] / max(int(count), 1))
