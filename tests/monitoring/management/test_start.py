"""The newcomer's first start, run as a real process against a fresh data folder."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """Shared by the starts below: collecting and compressing static files takes half a minute."""
    return tmp_path_factory.mktemp("static")


@pytest.fixture
def fresh_env(tmp_path, static_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SUPERUSER_", "DATABASE_URL", "SECRET_KEY"))}
    return env | {
        "LOOKOUT_DATA_DIR": str(tmp_path / "data"),
        "LOOKOUT_ENV_FILE": str(tmp_path / ".env"),
        "LOOKOUT_NO_BOOTSTRAP": "1",
        "CELERY_BROKER_URL": "filesystem://",
        "STATIC_ROOT": str(static_root),
    }


def _start(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", "start", "--prepare-only", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_first_start_writes_a_secret_creates_an_admin_once_and_seeds_the_demo(fresh_env, tmp_path):
    first = _start(fresh_env)
    assert first.returncode == 0, first.stderr
    dot_env = (tmp_path / ".env").read_text()
    assert dot_env.startswith("SECRET_KEY=") and len(dot_env.strip()) > 50
    assert oct((tmp_path / ".env").stat().st_mode)[-3:] == "600"
    assert "password:" in first.stdout
    assert "seeded the demo project" in first.stdout

    second = _start(fresh_env)
    assert second.returncode == 0, second.stderr
    assert "password:" not in second.stdout  # shown once, never again
    assert "seeded" not in second.stdout
    assert "static files are up to date" in second.stdout
    assert (tmp_path / ".env").read_text() == dot_env  # the key is kept

    db = sqlite3.connect(tmp_path / "data" / "lookout.sqlite3")
    assert db.execute("select count(*) from auth_user where is_superuser").fetchone() == (1,)
    assert db.execute("select count(*) from monitoring_project where slug='lookout'").fetchone() == (1,)
    assert db.execute("select count(*) from monitoring_ingestkey").fetchone() == (1,)
    assert db.execute("pragma journal_mode").fetchone() == ("wal",)


def test_first_start_takes_the_admin_from_the_environment(fresh_env, tmp_path):
    env = fresh_env | {
        "DJANGO_SUPERUSER_USERNAME": "ops",
        "DJANGO_SUPERUSER_PASSWORD": "a-long-passphrase-42",
        "SECRET_KEY": "from-the-environment-0123456789abcdefghijklmnopqrstuvwxyz",
    }
    result = _start(env)
    assert result.returncode == 0, result.stderr
    assert "password:" not in result.stdout
    assert "created admin user 'ops'" in result.stdout
    assert "SECRET_KEY" not in (tmp_path / ".env").read_text()  # the environment's key is not copied


def test_the_password_is_printed_last_once_the_portal_answers_and_reaches_a_piped_log(fresh_env):
    """The one-time password comes after the processes' start-up lines, so it is not scrolled
    away by them, and it is not lost when the output goes to a pipe (a supervisor, `| tee`),
    where Python buffers it."""
    import signal
    import socket
    import time

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "start", "--port", str(port)],
        cwd=ROOT,
        env=fresh_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break  # the web process is serving
            time.sleep(0.5)
        time.sleep(3)  # start looks every half second, then prints
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert "password:" in output, output
    assert output.index("starting web, worker and beat") < output.index("web.1") < output.index("password:")
    assert output.count("password:") == 1


def _dsn(env, name="Checkout"):
    done = subprocess.run(
        [sys.executable, "manage.py", "createproject", name, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["dsn"]


def test_the_address_start_serves_on_is_what_every_url_names(fresh_env, tmp_path):
    """Started on port 8101 with no SITE_URL, a DSN printed later by another command names
    :8101, not :8000: an SDK or curl given it reaches the portal."""
    result = _start(fresh_env, "--port", "8101")
    assert result.returncode == 0, result.stderr
    assert "SITE_URL=http://127.0.0.1:8101" in (tmp_path / ".env").read_text()
    assert _dsn(fresh_env).endswith("@127.0.0.1:8101/2")

    moved = _start(fresh_env, "--port", "8102")  # started again elsewhere: the record follows
    assert moved.returncode == 0, moved.stderr
    assert (tmp_path / ".env").read_text().count("SITE_URL=") == 1
    assert "@127.0.0.1:8102/" in _dsn(fresh_env, "Payments")


def test_an_operators_site_url_is_never_replaced(fresh_env, tmp_path):
    env = fresh_env | {"SITE_URL": "https://lookout.example.com"}
    result = _start(env, "--port", "8101")
    assert result.returncode == 0, result.stderr
    assert "SITE_URL" not in (tmp_path / ".env").read_text()
    assert "@lookout.example.com/" in _dsn(env)
