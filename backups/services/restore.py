"""Restore a run into a database named by an environment variable.

Everything that can refuse does so before anything is written: the run must be a
succeeded database dump, the target must be the same kind of database (a PostgreSQL dump
never goes into SQLite, nor the reverse), empty unless `force`, and for PostgreSQL the local
`pg_restore` must be at least the dump's server version. Then the stored object's SHA-256
is checked, it is decrypted (a wrong identity fails here, still before the target is
touched) into a local temporary file, and `pg_restore -j` runs on it, or the SQLite file
replaces the target file.
"""

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from backups import pg
from backups.connectors.base import Format
from backups.connectors.sqlite import TABLES
from backups.errors import BackupError, env_value
from backups.models import FailureKind, Kind, Run, Status
from backups.services.pipeline import identities_load, pipe_in
from backups.storage import storage_for

VENDOR_OF_FORMAT = {Format.PG_CUSTOM: "postgresql", Format.SQLITE: "sqlite"}
STDERR_SHOWN = 2000


class RestoreRefused(BackupError):
    """A restore that must not start; nothing has been written."""

    def __init__(self, message: str):
        super().__init__(message, kind=FailureKind.CONFIG)


@dataclass(frozen=True)
class DatabaseTarget:
    vendor: str  # "postgresql" or "sqlite"
    conninfo: pg.Conninfo | None = None
    path: Path | None = None

    @classmethod
    def from_url(cls, url: str) -> "DatabaseTarget":
        if url.startswith(("postgres://", "postgresql://")):
            return cls(vendor="postgresql", conninfo=pg.conninfo_from_url(url))
        if url.startswith("sqlite:///"):
            return cls(vendor="sqlite", path=Path(url.removeprefix("sqlite://")))
        raise RestoreRefused("the target must be a postgres://… URL or sqlite:///path")

    def url(self) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{self.path}"
        from urllib.parse import quote

        info = self.conninfo or {}
        auth = quote(info.get("user", ""))
        if info.get("password"):
            auth += ":" + quote(str(info["password"]), safe="")
        host = info.get("host", "localhost")
        return f"postgres://{auth}@{host}:{info.get('port', 5432)}/{info.get('dbname', '')}"

    def is_empty(self) -> bool:
        if self.vendor == "postgresql":
            return pg.database_is_empty(self.conninfo or {})
        if not self.path or not self.path.exists() or self.path.stat().st_size == 0:
            return True
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
                return not conn.execute(TABLES).fetchone()
        except sqlite3.DatabaseError:
            return False  # something that is not an empty database: never overwrite it unasked

    def describe(self) -> str:
        if self.vendor == "sqlite":
            return str(self.path)
        info = self.conninfo or {}
        return f"PostgreSQL {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


@contextmanager
def decrypted(run: Run, *, identities: list) -> Iterator[Path]:
    """The run's dump as a local plain file, its SHA-256 checked first; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lookout-restore-") as scratch:
        with (
            storage_for(run.plan, run.storage) as storage,
            storage.local_path(run.storage_key, scratch=Path(scratch)) as stored,
        ):
            target = Path(scratch) / f"run-{run.pk}.{Format.EXTENSIONS.get(run.format, 'bin')}"
            pipe_in(stored=stored, expected_sha256=run.sha256, target=target, identities=identities)
        yield target


def restore_refusals(run: Run, target: DatabaseTarget, *, force: bool) -> None:
    if run.status != Status.SUCCEEDED:
        raise RestoreRefused(f"run {run.pk} did not succeed ({run.status}); restore a succeeded run")
    if run.kind != Kind.DATABASE:
        raise RestoreRefused(
            f"run {run.pk} is a {run.get_kind_display()}, not a database dump "
            "(read exports with loaddata or importconfig)"
        )
    dump_vendor = VENDOR_OF_FORMAT.get(run.format)
    if dump_vendor != target.vendor:
        raise RestoreRefused(
            f"run {run.pk} is a {dump_vendor} dump and the target is {target.vendor}: "
            f"a {dump_vendor} dump cannot be restored into {target.vendor}"
        )
    if target.vendor == "postgresql":
        have = pg.tool_version("pg_restore")
        if pg.major(have) < pg.major(run.source_version):
            raise RestoreRefused(
                f"pg_restore {have} is older than the dump's server (PostgreSQL {run.source_version}); "
                f"install PostgreSQL {pg.major(run.source_version)} client tools"
            )
    if not force and not target.is_empty():
        raise RestoreRefused(f"{target.describe()} is not empty; pass --force to restore over it")


def restore_file(dump: Path, *, fmt: str, target: DatabaseTarget, clean: bool) -> None:
    """Load a decrypted dump into the target (the caller made the checks)."""
    if fmt == Format.SQLITE:
        assert target.path is not None
        target.path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{target.path}{suffix}").unlink(missing_ok=True)
        # Same folder first, so the final rename is atomic: no half-copied database.
        staged = target.path.with_name(target.path.name + ".restoring")
        with dump.open("rb") as source, staged.open("wb") as out:
            while chunk := source.read(settings.BACKUPS_CHUNK_BYTES):
                out.write(chunk)
        os.replace(staged, target.path)
        return
    command = [
        pg.tool("pg_restore"),
        f"--jobs={settings.BACKUPS_RESTORE_JOBS}",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--no-password",
        f"--dbname={(target.conninfo or {}).get('dbname', '')}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    result = subprocess.run(
        [*command, str(dump)], capture_output=True, text=True, env=pg.libpq_env(target.conninfo or {}), check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore exited with {result.returncode}: {result.stderr.strip()[:STDERR_SHOWN]}",
            kind=FailureKind.RESTORE,
        )


def run_restore(*, run: Run, target_env: str, force: bool = False, identity_text: str | None = None) -> str:
    """Restore `run` into the database whose URL is in `target_env`; what was done, in words."""
    target = DatabaseTarget.from_url(env_value(target_env, field="--to"))
    restore_refusals(run, target, force=force)
    identities = identities_load(identity_text)
    with decrypted(run, identities=identities) as dump:
        restore_file(dump, fmt=run.format, target=target, clean=force)
    return f"restored run {run.pk} ({run.plan.name}, {run.started_at:%Y-%m-%d %H:%M} UTC) into {target.describe()}"
