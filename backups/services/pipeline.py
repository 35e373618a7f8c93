"""The streamed pipeline: source → zstd → age → SHA-256 → storage, and back.

Backing up, the source's bytes are read in chunks, compressed by zstd,
encrypted by age to every recipient (pyrage streams in 64 KiB chunks), hashed and handed
to the storage writer, which keeps at most one S3 part in memory. Nothing is held whole,
so memory stays flat whatever the database's size. The SHA-256 is of the stored (encrypted)
object: it can be checked before anything is decrypted, by anyone, without the identity.

Restoring runs the other way, in two steps so that nothing is written from a corrupt
object: first the stored object's SHA-256 is checked, then it is decrypted and
decompressed to a local file.
"""

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import pyrage
import zstandard
from django.conf import settings

from backups.errors import BackupError
from backups.models import FailureKind
from backups.storage.base import Writer

Progress = Callable[[int], None]
PROGRESS_EVERY_SECONDS = 2.0


@dataclass(frozen=True)
class Piped:
    raw_bytes: int
    stored_bytes: int
    sha256: str


class _CountingReader(io.RawIOBase):
    """The source, counted; reports progress at most every PROGRESS_EVERY_SECONDS."""

    def __init__(self, source: BinaryIO, progress: Progress | None):
        self.source = source
        self.progress = progress
        self.count = 0
        self._reported = time.monotonic()

    def readable(self) -> bool:
        return True

    error: BaseException | None = None

    def readinto(self, buffer) -> int:
        try:
            data = self.source.read(len(buffer))
        except BaseException as exc:
            self.error = exc
            raise
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.progress and time.monotonic() - self._reported >= PROGRESS_EVERY_SECONDS:
            self._reported = time.monotonic()
            self.progress(self.count)
        return n


class _HashingWriter(io.RawIOBase):
    def __init__(self, target: Writer):
        self.target = target
        self.hash = hashlib.sha256()
        self.count = 0

    def writable(self) -> bool:
        return True

    error: BaseException | None = None

    def write(self, data) -> int:
        data = bytes(data)
        self.hash.update(data)
        self.count += len(data)
        try:
            self.target.write(data)
        except BaseException as exc:
            # pyrage turns it into a bare EncryptError; keep it to re-raise with its kind.
            self.error = exc
            raise
        return len(data)


def recipients_parse(keys: list[str]) -> list:
    from pyrage import ssh, x25519

    parsed = []
    for key in keys:
        try:
            parsed.append(ssh.Recipient.from_str(key) if key.startswith("ssh-") else x25519.Recipient.from_str(key))
        except Exception as exc:
            raise BackupError(f"recipients: {key[:24]}… is not an age public key", kind=FailureKind.CONFIG) from exc
    return parsed


def fingerprint(key: str) -> str:
    """A short, stable name for a recipient (public keys are public; this is for lists)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def pipe_out(*, source: BinaryIO, writer: Writer, recipients: list[str], progress: Progress | None = None) -> Piped:
    """Stream `source` to `writer` compressed, encrypted and hashed. The caller commits or aborts."""
    counting = _CountingReader(source, progress)
    # One thread: zstd at level 3 outruns pg_dump by far, and its worker threads cost memory.
    compressor = zstandard.ZstdCompressor(level=settings.BACKUPS_ZSTD_LEVEL)
    hashing = _HashingWriter(writer)
    with compressor.stream_reader(
        cast(BinaryIO, counting), read_size=settings.BACKUPS_CHUNK_BYTES, closefd=False
    ) as compressed:
        try:
            pyrage.encrypt_io(
                io.BufferedReader(compressed, settings.BACKUPS_CHUNK_BYTES), hashing, recipients_parse(recipients)
            )
        except pyrage.EncryptError as exc:
            # A failure on either side surfaces here as EncryptError: report the real one.
            cause = hashing.error or counting.error
            if cause is not None:
                raise cause from None
            raise BackupError(f"encryption failed: {exc}") from exc
    return Piped(raw_bytes=counting.count, stored_bytes=hashing.count, sha256=hashing.hash.hexdigest())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(settings.BACKUPS_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def identities_load(identity_text: str | None = None) -> list:
    """The age identities that decrypt: given, or from BACKUPS_AGE_IDENTITY / BACKUPS_IDENTITY_FILE."""
    import os

    from pyrage import x25519

    text = identity_text
    if text is None:
        text = os.environ.get(settings.BACKUPS_IDENTITY_ENV, "")
        if not text and settings.BACKUPS_IDENTITY_FILE:
            try:
                text = Path(settings.BACKUPS_IDENTITY_FILE).read_text()
            except OSError as exc:
                raise BackupError(
                    f"identity: cannot read {settings.BACKUPS_IDENTITY_FILE}: {exc.strerror}", kind=FailureKind.CONFIG
                ) from exc
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("AGE-SECRET-KEY-")]
    if not lines:
        raise BackupError(
            f"identity: set {settings.BACKUPS_IDENTITY_ENV} (or BACKUPS_IDENTITY_FILE) to the age identity "
            "(AGE-SECRET-KEY-…) that decrypts these backups",
            kind=FailureKind.CONFIG,
        )
    try:
        return [x25519.Identity.from_str(line) for line in lines]
    except Exception as exc:
        raise BackupError(f"identity: not a valid age identity ({exc})", kind=FailureKind.CONFIG) from exc


def pipe_in(*, stored: Path, expected_sha256: str, target: Path, identities: list) -> None:
    """Check `stored`'s SHA-256, then decrypt and decompress it into `target`.

    A mismatch, a wrong identity or a damaged stream raises BackupError before (or, for a
    stream damaged after a matching hash, instead of) leaving `target` behind.
    """
    actual = sha256_file(stored)
    if actual != expected_sha256:
        raise BackupError(
            f"sha256 mismatch: the stored object hashes to {actual[:16]}…, the run recorded {expected_sha256[:16]}…",
            kind=FailureKind.CHECKSUM,
        )
    try:
        with stored.open("rb") as source, target.open("wb") as out:
            decompressor = zstandard.ZstdDecompressor()
            with decompressor.stream_writer(out, closefd=False) as plain:
                pyrage.decrypt_io(source, plain, identities)
    except pyrage.DecryptError as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"decryption failed (is this the right identity?): {exc}", kind=FailureKind.DECRYPT) from exc
    except zstandard.ZstdError as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"decompression failed: {exc}", kind=FailureKind.DECRYPT) from exc
