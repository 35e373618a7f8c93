"""A SQLite database file: the online backup API copies a consistent snapshot while others write.

The copy goes to a temporary file first (the backup API writes to a database, not a
stream); its row counts are taken from that copy, so they are exactly what was backed up.
"""

import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from backups.connectors.base import Connector, Dump, Format, produced
from backups.connectors.postgres import add_jsonl, json_line
from backups.errors import BackupError
from backups.models import FailureKind, Source

if TYPE_CHECKING:
    from backups.models import Plan

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        name: conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
        for (name,) in conn.execute(TABLES).fetchall()
    }


class SqliteConnector(Connector):
    source = Source.SQLITE

    def __init__(self, plan: "Plan", *, path: str | None = None):
        super().__init__(plan)
        self._path = path

    @property
    def path(self) -> Path:
        return Path(self._path or self.plan.sqlite_path)

    def vendor(self) -> str:
        return "sqlite"

    def _open(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise BackupError(f"sqlite_path: {self.path} does not exist", kind=FailureKind.SOURCE)
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{self.path} is not a SQLite database: {exc}", kind=FailureKind.SOURCE) from exc
        return conn

    def check(self) -> str:
        with self._open() as conn:
            tables = len(conn.execute(TABLES).fetchall())
        return f"SQLite {sqlite3.sqlite_version}, {tables} tables in {self.path}"

    @contextmanager
    def database_dump(self) -> Iterator[Dump]:
        source = self._open()
        with tempfile.TemporaryDirectory(prefix="lookout-backup-") as scratch:
            copy_path = Path(scratch) / "copy.sqlite3"
            try:
                copy = sqlite3.connect(copy_path)
                # Pages in steps, so writers are not held off for the whole copy.
                source.backup(copy, pages=4096)
                counts = sqlite_row_counts(copy)
                copy.close()
            except sqlite3.Error as exc:
                raise BackupError(f"the SQLite backup failed: {exc}", kind=FailureKind.SOURCE) from exc
            finally:
                source.close()
            with copy_path.open("rb") as reader:
                yield Dump(
                    reader=reader, format=Format.SQLITE, source_version=sqlite3.sqlite_version, row_counts=counts
                )

    @contextmanager
    def data_export(self) -> Iterator[Dump]:
        conn = self._open()

        def write(out: IO[bytes]) -> dict[str, int]:
            counts = {}
            # One read transaction: every table as of the same moment.
            conn.execute("BEGIN")
            with tarfile.open(fileobj=out, mode="w|") as tar:
                for (name,) in conn.execute(TABLES).fetchall():
                    cursor = conn.execute(f"SELECT * FROM {quote(name)}")
                    columns = [c[0] for c in cursor.description]
                    counts[name] = add_jsonl(tar, name, (json_line(dict(zip(columns, row))) for row in cursor))
            conn.rollback()
            return counts

        try:
            with produced(write) as (reader, finish):
                dump = Dump(reader=reader, format=Format.JSONL_TAR, source_version=sqlite3.sqlite_version)
                yield dump
                dump.row_counts = finish()
        finally:
            conn.close()
