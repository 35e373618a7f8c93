"""Any PostgreSQL database whose URL is in an environment variable the plan names.

The dump and the row counts see the same data: a repeatable-read transaction exports its
snapshot, `pg_dump --snapshot` dumps exactly that snapshot while the transaction counts
every table's rows in it (on the worker's other core), so verification can compare counts
exactly even on a database that is written to during the dump. pg_dump itself does not
compress (-Z0): the pipeline's zstd is both faster and smaller than its gzip.
"""

import json
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, BinaryIO, cast

from psycopg import sql

from backups import pg
from backups.connectors.base import Connector, Dump, Format, produced
from backups.errors import BackupError, env_value
from backups.models import FailureKind, Source

if TYPE_CHECKING:
    from backups.models import Plan

STDERR_SHOWN = 2000


class PostgresConnector(Connector):
    source = Source.POSTGRES

    def __init__(self, plan: "Plan", *, conninfo: pg.Conninfo | None = None):
        super().__init__(plan)
        self._conninfo = conninfo

    def conninfo(self) -> pg.Conninfo:
        if self._conninfo is None:
            self._conninfo = pg.conninfo_from_url(env_value(self.plan.source_env, field="source_env"))
        return self._conninfo

    def vendor(self) -> str:
        return "postgresql"

    def check(self) -> str:
        with pg.connect(self.conninfo()) as conn:
            version = pg.server_version(conn)
            tables = len(conn.execute(pg.USER_TABLES).fetchall())
        return f"PostgreSQL {version}, {tables} tables"

    @contextmanager
    def _snapshot(self) -> Iterator[tuple["pg.psycopg.Connection", str, str]]:
        with pg.connect(self.conninfo()) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = pg.scalar(conn, "SELECT pg_export_snapshot()")
            yield conn, snapshot, pg.server_version(conn)
            conn.rollback()

    @contextmanager
    def database_dump(self) -> Iterator[Dump]:
        import subprocess

        with self._snapshot() as (conn, snapshot, version), tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(
                [pg.tool("pg_dump"), "--format=custom", "--compress=0", f"--snapshot={snapshot}", "--no-password"],
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=pg.libpq_env(self.conninfo()),
                bufsize=1024 * 1024,
            )
            counted: dict = {}

            def count() -> None:
                try:
                    counted["rows"] = pg.table_row_counts(conn)
                except Exception as exc:  # reported by the main thread after pg_dump ends
                    counted["error"] = exc

            counter = threading.Thread(target=count, name="backup-row-counts", daemon=True)
            counter.start()
            stdout = process.stdout
            assert stdout is not None  # stdout=PIPE
            dump = Dump(reader=cast(BinaryIO, stdout), format=Format.PG_CUSTOM, source_version=version)
            try:
                yield dump
            except BaseException:
                process.kill()
                raise
            finally:
                stdout.close()
                returncode = process.wait()
                counter.join()
            if returncode != 0:
                stderr.seek(0)
                text = stderr.read(STDERR_SHOWN).decode(errors="replace").strip()
                raise BackupError(f"pg_dump exited with {returncode}: {text}", kind=FailureKind.SOURCE)
            if "error" in counted:
                raise BackupError(f"counting rows failed: {pg.first_line(counted['error'])}", kind=FailureKind.SOURCE)
            dump.row_counts = counted["rows"]

    @contextmanager
    def data_export(self) -> Iterator[Dump]:
        """A tar of one JSON Lines file per table, all read in one snapshot."""
        with pg.connect(self.conninfo()) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            version = pg.server_version(conn)
            tables = conn.execute(pg.USER_TABLES).fetchall()

            def write(out: IO[bytes]) -> dict[str, int]:
                counts: dict[str, int] = {}
                with tarfile.open(fileobj=out, mode="w|") as tar:
                    for schema, table in tables:
                        name = table if schema == "public" else f"{schema}.{table}"
                        query = sql.SQL("SELECT row_to_json(t)::text FROM {}.{} t").format(
                            sql.Identifier(schema), sql.Identifier(table)
                        )
                        with conn.cursor(name=f"export_{len(counts)}") as cursor:
                            cursor.itersize = 5000
                            counts[name] = add_jsonl(tar, name, (row[0] for row in cursor.execute(query)))
                return counts

            with produced(write) as (reader, finish):
                dump = Dump(reader=reader, format=Format.JSONL_TAR, source_version=version)
                yield dump
                dump.row_counts = finish()
            conn.rollback()


def add_jsonl(tar: tarfile.TarFile, name: str, lines: Iterator[str]) -> int:
    """Spool one table's lines to a temporary file (a tar member needs its size first) and add it."""
    rows = 0
    with tempfile.TemporaryFile() as spool:
        for line in lines:
            spool.write(line.encode())
            spool.write(b"\n")
            rows += 1
        info = tarfile.TarInfo(f"{name}.jsonl")
        info.size = spool.tell()
        spool.seek(0)
        tar.addfile(info, spool)
    return rows


def json_line(row: dict) -> str:
    return json.dumps(row, default=_plain, ensure_ascii=False, separators=(",", ":"))


def _plain(value):
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)
