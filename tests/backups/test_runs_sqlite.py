"""Backups of a SQLite file through the whole pipeline, to a local folder."""

import sqlite3
from pathlib import Path

import pytest

from backups.models import FailureKind, Run, Status
from backups.services.pipeline import identities_load, pipe_in
from backups.services.runs import plan_backup
from backups.storage import storage_for


@pytest.fixture
def app_db(tmp_path) -> Path:
    path = tmp_path / "app.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, photo BLOB)")
    conn.executemany("INSERT INTO customers (name, photo) VALUES (?, ?)", [(f"c{i}", b"\x00\x01") for i in range(500)])
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL)")
    conn.executemany("INSERT INTO orders (customer_id, total) VALUES (?, ?)", [(i % 500, i * 1.5) for i in range(1200)])
    conn.commit()
    conn.close()
    return path


def test_a_sqlite_dump_is_stored_encrypted_with_its_row_counts(make_plan, app_db, identity_env, tmp_path):
    plan = make_plan(name="app", source="sqlite", sqlite_path=str(app_db))
    (run,) = plan_backup(plan=plan)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.row_counts == {"customers": 500, "orders": 1200}
    assert run.format == "sqlite" and run.source_version == sqlite3.sqlite_version
    stored = storage_for(plan).root / run.storage_key
    assert stored.is_file() and stored.stat().st_size == run.stored_bytes
    assert run.raw_bytes == app_db.stat().st_size
    assert b"customers" not in stored.read_bytes()  # encrypted, not merely compressed
    restored = tmp_path / "restored.sqlite3"
    pipe_in(stored=stored, expected_sha256=run.sha256, target=restored, identities=identities_load())
    assert sqlite3.connect(restored).execute("SELECT count(*) FROM orders").fetchone() == (1200,)


def test_a_json_lines_export_counts_what_it_wrote(make_plan, app_db, identity_env, tmp_path):
    import tarfile

    plan = make_plan(name="app", source="sqlite", sqlite_path=str(app_db), kind_database=False, kind_export=True)
    (run,) = plan_backup(plan=plan)
    assert run.status == Status.SUCCEEDED, run.error
    assert run.row_counts == {"customers": 500, "orders": 1200}
    out = tmp_path / "export.tar"
    pipe_in(
        stored=storage_for(plan).root / run.storage_key,
        expected_sha256=run.sha256,
        target=out,
        identities=identities_load(),
    )
    with tarfile.open(out) as tar:
        lines = tar.extractfile("orders.jsonl").read().decode().splitlines()
    assert len(lines) == 1200 and '"total":1.5' in lines[1]


def test_a_missing_file_fails_the_run_with_the_reason(make_plan, tmp_path):
    plan = make_plan(name="gone", source="sqlite", sqlite_path=str(tmp_path / "nope.sqlite3"))
    (run,) = plan_backup(plan=plan)
    assert run.status == Status.FAILED
    assert run.failure_kind == FailureKind.SOURCE
    assert "does not exist" in run.error
    assert list(storage_for(plan).list()) == []
    assert Run.objects.get().finished_at is not None
