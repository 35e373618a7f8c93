"""What every backup storage offers: a streamed writer that is committed or aborted, a reader,
a listing for orphans, deletion, and a connection check.

One class per storage kind (local folder, S3-compatible, SFTP), registered in
`backups/storage/__init__.py`. Credentials are environment variables the plan names; a
missing one is a BackupError(kind=config) naming it, never a traceback. A writer never leaves
a complete-looking object behind unless `commit()` was called: the local and SFTP writers
write to `<key>.partial` and rename, S3 uses a multipart upload that is aborted on failure.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Self

from backups.errors import BackupError
from backups.models import FailureKind

if TYPE_CHECKING:
    from backups.models import Plan

PARTIAL_SUFFIX = ".partial"


class StorageError(BackupError):
    def __init__(self, message: str, *, kind: str = FailureKind.STORAGE):
        super().__init__(message, kind=kind)


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class Writer:
    """Receives the encrypted stream in order; nothing is visible under `key` before commit()."""

    def write(self, data: bytes) -> int:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    # The pipeline hands writers to pyrage, which calls these as on a file.
    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass


class Storage:
    """Used as a context manager: a storage that holds a connection (SFTP) closes it on exit."""

    kind: ClassVar[str]

    def __init__(self, plan: "Plan"):
        self.plan = plan

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release what the storage holds open; it may be used again afterwards (it reconnects)."""

    def open_writer(self, key: str) -> Writer:
        raise NotImplementedError

    def open_reader(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def open_download(self, key: str) -> BinaryIO:
        """A reader that closes the storage when it is closed: for a response that outlives the view."""
        try:
            reader = self.open_reader(key)
        except BaseException:
            self.close()
            raise
        return _OwningReader(reader, self)  # type: ignore[return-value]

    @contextmanager
    def local_path(self, key: str, *, scratch: Path) -> Iterator[Path]:
        """A local file holding the object: itself when local, else a copy in `scratch`."""
        target = scratch / Path(key).name
        with self.open_reader(key) as source, target.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
        try:
            yield target
        finally:
            target.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def remove_partial(self, key: str) -> bool:
        """Remove what an interrupted writer left for `key`; True when something was there."""
        raise NotImplementedError

    def list(self) -> Iterator[StoredObject]:
        """Every object under the plan's folder or prefix (partials included)."""
        raise NotImplementedError

    def check(self) -> str:
        """Reach the storage and say where it is; StorageError when it cannot be reached."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class _OwningReader:
    """The reader as it is, except that closing it also closes its storage."""

    def __init__(self, reader: BinaryIO, storage: Storage):
        self._reader = reader
        self._storage = storage

    def __getattr__(self, name: str):
        return getattr(self._reader, name)

    def close(self) -> None:
        try:
            self._reader.close()
        finally:
            self._storage.close()
