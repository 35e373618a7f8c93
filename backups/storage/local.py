"""A folder on the worker's disk (default BACKUPS_DIR)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from backups.models import StorageKind
from backups.storage.base import PARTIAL_SUFFIX, Storage, StorageError, StoredObject, Writer


class _FileWriter(Writer):
    def __init__(self, final: Path):
        self.final = final
        self.partial = final.with_name(final.name + PARTIAL_SUFFIX)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.partial.open("wb")

    def write(self, data: bytes) -> int:
        return self.file.write(data)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        self.partial.rename(self.final)

    def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


class LocalStorage(Storage):
    kind = StorageKind.LOCAL

    @property
    def root(self) -> Path:
        return Path(self.plan.storage_path or settings.BACKUPS_DIR)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageError(f"{key!r} is outside the backup folder")
        return path

    def open_writer(self, key: str) -> Writer:
        try:
            return _FileWriter(self._path(key))
        except OSError as exc:
            raise StorageError(f"cannot write to {self.root}: {exc.strerror or exc}") from exc

    def open_reader(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"{key} is missing from {self.root}") from exc

    @contextmanager
    def local_path(self, key: str, *, scratch: Path) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"{key} is missing from {self.root}")
        yield path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def remove_partial(self, key: str) -> bool:
        partial = self._path(key + PARTIAL_SUFFIX)
        existed = partial.exists()
        partial.unlink(missing_ok=True)
        return existed

    def list(self) -> Iterator[StoredObject]:
        folder = self.root / self.plan.name
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                yield StoredObject(key=path.relative_to(self.root).as_posix(), size=path.stat().st_size)

    def check(self) -> str:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.root}: {exc.strerror or exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable by this process")
        return f"{self.root} is writable"

    def describe(self) -> str:
        return str(self.root)
