"""An SFTP server, reached with paramiko; the URL (with its password) is in an environment variable.

The URL is sftp://user:password@host:port/. Host keys are checked against the worker's
known_hosts unless the URL carries ?insecure=1: a backup server's key is worth pinning.
"""

import posixpath
import stat
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from backups.errors import env_value
from backups.models import StorageKind
from backups.storage.base import PARTIAL_SUFFIX, Storage, StorageError, StoredObject, Writer


class _SftpWriter(Writer):
    def __init__(self, client, final: str):
        self.client = client
        self.final = final
        self.partial = final + PARTIAL_SUFFIX
        self.file = client.open(self.partial, "wb")
        self.file.set_pipelined(True)

    def write(self, data: bytes) -> int:
        self.file.write(data)
        return len(data)

    def commit(self) -> None:
        self.file.close()
        self.client.posix_rename(self.partial, self.final)

    def abort(self) -> None:
        try:
            self.file.close()
            self.client.remove(self.partial)
        except OSError:
            pass


class SftpStorage(Storage):
    kind = StorageKind.SFTP
    _client = None
    _ssh = None

    def _connect(self):
        if self._client is not None:
            return self._client
        import paramiko

        url = urlsplit(env_value(self.plan.storage_url_env, field="storage_url_env"))
        if url.scheme != "sftp" or not url.hostname:
            raise StorageError("storage_url_env: the URL must look like sftp://user:password@host:port/")
        ssh = paramiko.SSHClient()
        ssh.load_system_host_keys()
        if parse_qs(url.query).get("insecure") == ["1"]:
            ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            ssh.connect(
                url.hostname,
                port=url.port or 22,
                username=unquote(url.username or ""),
                password=unquote(url.password or "") or None,
                timeout=15,
            )
        except (paramiko.SSHException, OSError) as exc:
            ssh.close()
            raise StorageError(f"SFTP {url.hostname}: {exc}") from exc
        self._ssh = ssh
        self._client = ssh.open_sftp()
        self._base = posixpath.join(url.path or ".", self.plan.storage_path.strip("/"))
        return self._client

    def close(self) -> None:
        # An SSH session left open holds a server slot and a worker thread until the process ends.
        if self._client is not None:
            self._client.close()
        if self._ssh is not None:
            self._ssh.close()
        self._client = self._ssh = None

    def _path(self, key: str) -> str:
        self._connect()
        return posixpath.join(self._base, key)

    def _makedirs(self, folder: str) -> None:
        client = self._connect()
        parts = [p for p in folder.split("/") if p]
        current = "/" if folder.startswith("/") else ""
        for part in parts:
            current = posixpath.join(current, part) if current else part
            try:
                client.stat(current)
            except OSError:
                client.mkdir(current)

    def open_writer(self, key: str) -> Writer:
        path = self._path(key)
        try:
            self._makedirs(posixpath.dirname(path))
            return _SftpWriter(self._connect(), path)
        except OSError as exc:
            raise StorageError(f"SFTP: cannot write {key}: {exc}") from exc

    def open_reader(self, key: str) -> BinaryIO:
        try:
            return self._connect().open(self._path(key), "rb")
        except OSError as exc:
            raise StorageError(f"SFTP: cannot read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._connect().remove(self._path(key))
        except FileNotFoundError:
            pass

    def remove_partial(self, key: str) -> bool:
        try:
            self._connect().remove(self._path(key + PARTIAL_SUFFIX))
        except FileNotFoundError:
            return False
        return True

    def list(self) -> Iterator[StoredObject]:
        client = self._connect()
        pending = [self.plan.name]
        while pending:
            folder = pending.pop()
            try:
                entries = client.listdir_attr(self._path(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                key = f"{folder}/{entry.filename}"
                if stat.S_ISDIR(entry.st_mode or 0):
                    pending.append(key)
                else:
                    yield StoredObject(key=key, size=entry.st_size or 0)

    def check(self) -> str:
        client = self._connect()
        try:
            client.listdir(self._base or ".")
        except OSError as exc:
            raise StorageError(f"SFTP: cannot list {self._base}: {exc}") from exc
        return f"SFTP folder {self._base} answers"

    def describe(self) -> str:
        return f"SFTP ({self.plan.storage_url_env})/{self.plan.storage_path.strip('/')}"
