"""The backup and restore commands as an operator types them, bad input included."""

import sqlite3
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backups.models import Run, Status
from tests.processes import current_database_url


@pytest.fixture
def app_plan(make_plan, notes_db):
    return make_plan(name="app", source="sqlite", sqlite_path=str(notes_db), kind_export=True)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_backup_list_verify_and_restore(app_plan, identity_env, tmp_path, monkeypatch):
    out = run("backup", "app", "--kind", "database")
    assert "app database: run" in out and "succeeded" in out
    (backup,) = Run.objects.all()
    assert f"{backup.pk:>6}  app" in run("backup", "list")
    verified = run("backup", "verify", str(backup.pk))
    assert "ok   row counts" in verified and f"run {backup.pk} verified" in verified
    target = tmp_path / "restored.sqlite3"
    monkeypatch.setenv("RESTORED_URL", f"sqlite:///{target}")
    assert "restored run" in run("restore", str(backup.pk), "--to", "RESTORED_URL")
    assert sqlite3.connect(target).execute("SELECT count(*) FROM notes").fetchone() == (50,)
    with pytest.raises(CommandError, match="is not empty; pass --force") as refused:
        run("restore", str(backup.pk), "--to", "RESTORED_URL")
    assert refused.value.returncode == 2
    assert "restored run" in run("restore", str(backup.pk), "--to", "RESTORED_URL", "--force")


def test_a_full_backup_makes_every_kind_the_source_has(app_plan, identity_env):
    run("backup", "app", "--kind", "full")
    assert sorted(Run.objects.values_list("kind", "status")) == [("database", "succeeded"), ("export", "succeeded")]


def test_cleanup_dry_run(app_plan, identity_env):
    run("backup", "app")
    assert "would delete: 0 run(s), 0 orphan file(s)" in run("backup", "cleanup", "--dry-run")


@pytest.mark.parametrize(
    "args, message",
    [
        (["backup", "nope"], "plan: no plan named 'nope' (plans: app)"),
        (["backup", "app", "--kind", "config"], "kind: a SQLite file source has no config backup"),
        (["backup", "verify"], "run: give one run id"),
        (["backup", "verify", "abc"], "run: give one run id"),
        (["backup", "verify", "999999"], "run: no run 999999"),
        (["backup", "app", "--dry-run"], "--dry-run: only `backup cleanup` takes it"),
        (["restore", "x1", "--to", "T"], "run: 'x1' is not a run id"),
        (["restore", "999999", "--to", "T"], "run: no run 999999"),
    ],
)
def test_bad_arguments_name_the_argument_and_exit_2(app_plan, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert message in str(caught.value)
    assert caught.value.returncode == 2


def test_restore_names_an_unset_target_variable(app_plan, identity_env, monkeypatch):
    run("backup", "app", "--kind", "database")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(CommandError, match="--to: the environment variable NOT_SET_ANYWHERE is not set") as caught:
        run("restore", str(Run.objects.get().pk), "--to", "NOT_SET_ANYWHERE")
    assert caught.value.returncode == 2


def test_restore_of_a_sqlite_dump_into_postgresql_is_refused(app_plan, identity_env, monkeypatch):
    run("backup", "app", "--kind", "database")
    monkeypatch.setenv("PG_TARGET", "postgres://nobody@127.0.0.1:1/none")
    with pytest.raises(CommandError, match="a sqlite dump cannot be restored into postgresql"):
        run("restore", str(Run.objects.get().pk), "--to", "PG_TARGET")


def test_a_failed_run_exits_1_with_its_reason(make_plan, tmp_path):
    make_plan(name="gone", source="sqlite", sqlite_path=str(tmp_path / "missing.sqlite3"))
    with pytest.raises(CommandError, match="1 backup"):
        run("backup", "gone")
    assert Run.objects.get().status == Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_bad_kind_is_one_line_on_stderr_with_exit_status_2(app_plan):
    result = subprocess.run(
        [sys.executable, "manage.py", "backup", "app", "--kind", "everything"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DATABASE_URL": current_database_url(), "SECRET_KEY": "x" * 60},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--kind: invalid choice: 'everything'" in result.stderr
