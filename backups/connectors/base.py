"""What every connector offers: a connection check, and a dump of one kind as a byte stream.

One class per source kind (the portal's database, an external PostgreSQL, a SQLite file),
registered in `backups/connectors/__init__.py`. `dump(kind)` is a context manager that
yields a Dump whose `reader` the pipeline reads to the end; leaving the block finishes the
producer (waits for pg_dump, joins the export thread) and fills `row_counts`, or stops it
when the pipeline failed. A failure is a BackupError whose kind says where it came from.
"""

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, BinaryIO, ClassVar

from backups.errors import BackupError
from backups.models import FailureKind, Kind

if TYPE_CHECKING:
    from backups.models import Plan


class Format:
    """What is inside the encryption, so restore knows what to do with it."""

    PG_CUSTOM = "pg_custom"  # pg_dump -Fc
    SQLITE = "sqlite"  # a SQLite database file
    JSONL_TAR = "jsonl_tar"  # a tar of <table>.jsonl
    DUMPDATA = "dumpdata_json"  # Django's dumpdata
    CONFIG_YAML = "config_yaml"  # what importconfig reads back

    EXTENSIONS: ClassVar[dict[str, str]] = {
        PG_CUSTOM: "dump",
        SQLITE: "sqlite3",
        JSONL_TAR: "jsonl.tar",
        DUMPDATA: "json",
        CONFIG_YAML: "yaml",
    }


@dataclass
class Dump:
    reader: BinaryIO
    format: str
    source_version: str
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return Format.EXTENSIONS[self.format]


class Connector:
    source: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = (Kind.DATABASE, Kind.EXPORT)

    def __init__(self, plan: "Plan"):
        self.plan = plan

    def check(self) -> str:
        """Connect and say what answered (e.g. 'PostgreSQL 15.4, 12 tables')."""
        raise NotImplementedError

    def vendor(self) -> str:
        """'postgresql' or 'sqlite': what a database dump of this source can be restored into."""
        raise NotImplementedError

    @contextmanager
    def dump(self, kind: str) -> Iterator[Dump]:
        if kind not in self.kinds:
            raise BackupError(f"a {self.source} source has no {kind} backup", kind=FailureKind.CONFIG)
        if kind == Kind.DATABASE:
            with self.database_dump() as dump:
                yield dump
        elif kind == Kind.EXPORT:
            with self.data_export() as dump:
                yield dump
        else:
            with self.config_export() as dump:
                yield dump

    def database_dump(self):
        raise NotImplementedError

    def data_export(self):
        raise NotImplementedError

    def config_export(self):
        raise NotImplementedError


@contextmanager
def produced(write: Callable[[IO[bytes]], dict[str, int]]) -> Iterator[tuple[BinaryIO, Callable[[], dict[str, int]]]]:
    """Run `write(out)` in a thread feeding a pipe; yield (reader, finish).

    `finish()` waits for the writer and returns what it returned (row counts), re-raising
    its error. Leaving the block early closes the reader, so a writer blocked on a full
    pipe gets BrokenPipeError and ends instead of hanging.
    """
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb", buffering=1024 * 1024)
    outcome: dict = {}

    def run() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=1024 * 1024) as out:
                outcome["counts"] = write(out)
        except BaseException as exc:  # handed to finish(); the thread must not die silently
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="backup-producer", daemon=True)
    thread.start()

    def finish() -> dict[str, int]:
        thread.join()
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, BackupError):
                raise error
            raise BackupError(f"reading the source failed: {error}", kind=FailureKind.SOURCE) from error
        return outcome.get("counts") or {}

    try:
        yield reader, finish
    finally:
        reader.close()
        thread.join(timeout=30)
