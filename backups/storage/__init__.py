"""Backup storages, one class per kind; `storage_for(plan)` picks the plan's."""

from typing import TYPE_CHECKING

from backups.models import StorageKind
from backups.storage.base import Storage, StorageError, StoredObject, Writer
from backups.storage.local import LocalStorage
from backups.storage.s3 import S3Storage
from backups.storage.sftp import SftpStorage

if TYPE_CHECKING:
    from backups.models import Plan

STORAGES: dict[str, type[Storage]] = {
    StorageKind.LOCAL: LocalStorage,
    StorageKind.S3: S3Storage,
    StorageKind.SFTP: SftpStorage,
}


def storage_for(plan: "Plan", kind: str | None = None) -> Storage:
    return STORAGES[kind or plan.storage](plan)


__all__ = ["STORAGES", "Storage", "StorageError", "StoredObject", "Writer", "storage_for"]
