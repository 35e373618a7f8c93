"""Real pg_dump and pg_restore: dumps with exact counts, restores, refusals, verification."""

import psycopg
import pytest
from django.db import connection

from backups.models import FailureKind, Status
from backups.services.restore import RestoreRefused, run_restore
from backups.services.runs import plan_backup
from backups.services.verification import portal_drill, run_verify
from backups.storage import storage_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore need PostgreSQL"),
]


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def app_plan(make_plan, app_pg):
    return make_plan(name="app", source="postgres", source_env="APP_DATABASE_URL")


def test_a_dump_restores_into_an_empty_database_with_every_row(app_plan, pg_database, identity_env, monkeypatch):
    (run,) = plan_backup(plan=app_plan)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.format == "pg_custom" and run.source_version.startswith("15")
    assert run.row_counts == {"customers": 700, "orders": 2500}
    monkeypatch.setenv("RESTORE_URL", target := pg_database("hbackup_target"))
    message = run_restore(run=run, target_env="RESTORE_URL")
    assert "restored run" in message
    assert _count(target, "orders") == 2500 and _count(target, "customers") == 700


def test_restore_refuses_a_non_empty_target_unless_forced(app_plan, pg_database, identity_env, monkeypatch):
    (run,) = plan_backup(plan=app_plan)
    target = pg_database("hbackup_target")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int)")
    monkeypatch.setenv("RESTORE_URL", target)
    with pytest.raises(RestoreRefused, match="is not empty; pass --force"):
        run_restore(run=run, target_env="RESTORE_URL")
    assert _count(target, "keep_me") == 0
    with pytest.raises(psycopg.errors.UndefinedTable):
        _count(target, "orders")
    run_restore(run=run, target_env="RESTORE_URL", force=True)
    assert _count(target, "orders") == 2500


def test_restore_refuses_the_wrong_kind_of_database_and_an_old_pg_restore(
    app_plan, identity_env, monkeypatch, tmp_path
):
    (run,) = plan_backup(plan=app_plan)
    monkeypatch.setenv("RESTORE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(RestoreRefused, match="a postgresql dump cannot be restored into sqlite"):
        run_restore(run=run, target_env="RESTORE_URL")
    assert not (tmp_path / "x.sqlite3").exists()
    run.source_version = "99.1"
    monkeypatch.setenv("RESTORE_URL", "postgres://nobody@127.0.0.1:1/none")
    with pytest.raises(
        RestoreRefused, match=r"pg_restore 15\.\d+ is older than the dump's server \(PostgreSQL 99\.1\)"
    ):
        run_restore(run=run, target_env="RESTORE_URL")


def test_a_wrong_identity_fails_before_anything_is_written(app_plan, pg_database, identity_env, monkeypatch):
    from pyrage import x25519

    (run,) = plan_backup(plan=app_plan)
    monkeypatch.setenv("RESTORE_URL", target := pg_database("hbackup_target"))
    from backups.errors import BackupError

    with pytest.raises(BackupError, match="decryption failed") as caught:
        run_restore(run=run, target_env="RESTORE_URL", identity_text=str(x25519.Identity.generate()))
    assert caught.value.kind == FailureKind.DECRYPT
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_verification_restores_into_a_scratch_database_and_drops_it(app_plan, identity_env, pg_server):
    (run,) = plan_backup(plan=app_plan)
    receipt = run_verify(run=run)
    assert receipt.status == Status.SUCCEEDED, receipt.error
    assert receipt.sha256_ok and receipt.found_rows == {"customers": 700, "orders": 2500}
    assert receipt.restore_seconds > 0
    names = [s["name"] for s in receipt.steps]
    assert names[:5] == ["fetched", "sha256", "decrypted and decompressed", "restored", "row counts"]
    assert "pg_amcheck" in names and names[-1] == "scratch database dropped"
    run.refresh_from_db()
    assert run.verified_at and run.recovery_seconds == receipt.restore_seconds
    with psycopg.connect(**pg_server, dbname="postgres") as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'lookout_scratch_%'").fetchone()
    assert left == (0,)


def test_a_flipped_byte_fails_verification_with_the_reason(app_plan, identity_env):
    (run,) = plan_backup(plan=app_plan)
    path = storage_for(app_plan).root / run.storage_key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    receipt = run_verify(run=run)
    assert receipt.status == Status.FAILED
    assert receipt.failure_kind == FailureKind.CHECKSUM and receipt.sha256_ok is False
    assert receipt.error.startswith("sha256 mismatch")
    run.refresh_from_db()
    assert run.verification_failed_at and run.verified_at is None


def test_row_counts_that_differ_fail_verification_naming_the_table(app_plan, identity_env):
    (run,) = plan_backup(plan=app_plan)
    run.row_counts = {**run.row_counts, "orders": 2501}
    run.save(update_fields=["row_counts"])
    receipt = run_verify(run=run)
    assert receipt.status == Status.FAILED and receipt.failure_kind == FailureKind.ROW_COUNTS
    assert "orders: 2500 rows restored, 2501 dumped" in receipt.error


def test_a_source_variable_removed_after_saving_fails_the_run_clearly(app_plan, monkeypatch):
    monkeypatch.delenv("APP_DATABASE_URL")
    (run,) = plan_backup(plan=app_plan)
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.CONFIG
    assert run.error == "source_env: the environment variable APP_DATABASE_URL is not set"


@pytest.mark.django_db(transaction=True)
def test_the_drill_runs_the_portal_against_its_restored_copy(make_plan, identity_env, monkeypatch, settings):
    monkeypatch.setenv("SECRET_KEY", "a-drill-secret-key-that-is-long-enough-for-the-check-0123456789")
    plan = make_plan(name="portal")
    (run,) = plan_backup(plan=plan)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.row_counts["backups_plan"] == 1
    (receipt,) = portal_drill()
    assert receipt.status == Status.SUCCEEDED, receipt.error
    names = [s["name"] for s in receipt.steps]
    assert names[-3:] == ["migrate --check", "database health check", "scratch database dropped"]
    # The same check as /health/, with a budget for a drill rather than for a load balancer.
    assert "database: ok (within a 60 s budget)" in receipt.steps[-2]["detail"]
