"""Source map uploads, as `sentry-cli sourcemaps upload` makes them (Sentry's chunk upload):

1. GET chunk-upload/ tells the client the chunk size and how many chunks a request may carry;
2. the client asks assemble/ for the archive by its SHA-1 and its chunks' SHA-1s, and is
   told which chunks are missing (state "not_found");
3. it POSTs those chunks (each checked against its name here, and refused whole if one
   does not match);
4. it asks assemble/ again: the chunks are joined, the whole checked against its SHA-1,
   the archive read and every source map in it parsed, then stored in one transaction
   (state "ok"), or refused with the reason (state "error"). Nothing of a refused bundle
   is kept. Assembling is done in the request: bounded by MAX_BUNDLE_BYTES, it takes
   well under the worker timeout.

Chunks are deleted once their archive is assembled, and any left by an upload that never
finished are deleted a day later, by the next assemble.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from monitoring.errors.bundles import InvalidBundle, bundle_read
from monitoring.models import ArtifactBundle, ArtifactBundleFile, FileChunk, Project

CHUNK_SIZE = 1024 * 1024
CHUNKS_PER_REQUEST = 16
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
CHUNK_KEEP = timedelta(days=1)


class InvalidChunk(ValueError):
    pass


def chunks_store(*, chunks: dict[str, bytes], at: datetime) -> None:
    """Keep uploaded chunks by their SHA-1 names; InvalidChunk, keeping none, when one is
    too big or its content does not have the SHA-1 it is named by."""
    for name, data in chunks.items():
        if len(data) > CHUNK_SIZE:
            raise InvalidChunk(f"chunk {name}: over the chunk size ({CHUNK_SIZE} bytes)")
        actual = hashlib.sha1(data).hexdigest()  # noqa: S324 the protocol's checksum, not a secret
        if actual != name.lower():
            raise InvalidChunk(f"chunk {name}: its content's SHA-1 is {actual}")
    with transaction.atomic():
        known = set(FileChunk.objects.filter(checksum__in=list(chunks)).values_list("checksum", flat=True))
        FileChunk.objects.bulk_create(
            [FileChunk(checksum=n.lower(), data=d, created_at=at) for n, d in chunks.items() if n not in known],
            ignore_conflicts=True,
        )


@dataclass
class Assembled:
    state: str  # "ok", "not_found" (chunks missing), "error"
    missing: list[str] = field(default_factory=list)
    detail: str | None = None


def artifact_bundle_assemble(
    *, projects: list[Project], checksum: str, chunks: list[str], release: str, dist: str, at: datetime
) -> Assembled:
    checksum = checksum.lower()
    chunks = [c.lower() for c in chunks]
    have = set(
        ArtifactBundle.objects.filter(project__in=projects, checksum=checksum).values_list("project_id", flat=True)
    )
    todo = [p for p in projects if p.pk not in have]
    if not todo:
        return Assembled("ok")
    if len(chunks) * CHUNK_SIZE > MAX_BUNDLE_BYTES + CHUNK_SIZE:
        return Assembled("error", detail=f"the bundle is over {MAX_BUNDLE_BYTES} bytes")
    stored = dict(FileChunk.objects.filter(checksum__in=chunks).values_list("checksum", "data"))
    missing = [c for c in dict.fromkeys(chunks) if c not in stored]
    if missing:
        return Assembled("not_found", missing=missing)
    data = b"".join(bytes(stored[c]) for c in chunks)
    if len(data) > MAX_BUNDLE_BYTES:
        return Assembled("error", detail=f"the bundle is {len(data)} bytes, over {MAX_BUNDLE_BYTES}")
    actual = hashlib.sha1(data).hexdigest()  # noqa: S324 the protocol's checksum
    if actual != checksum:
        return Assembled("error", detail=f"the chunks join to SHA-1 {actual}, not {checksum}")
    try:
        bundle = bundle_read(data, max_unpacked=MAX_UNPACKED_BYTES)
    except InvalidBundle as exc:
        return Assembled("error", detail=str(exc))
    try:
        with transaction.atomic():
            for project in todo:
                row = ArtifactBundle.objects.create(
                    project=project,
                    checksum=checksum,
                    bundle_id=bundle.bundle_id,
                    release=release or bundle.release,
                    dist=dist or bundle.dist,
                    created_at=at,
                    size=len(data),
                )
                ArtifactBundleFile.objects.bulk_create(
                    [
                        ArtifactBundleFile(
                            bundle=row,
                            type=f.type,
                            url=f.url,
                            debug_id=f.debug_id,
                            sourcemap=f.sourcemap,
                            content=f.content,
                        )
                        for f in bundle.files
                    ]
                )
    except IntegrityError:
        pass  # the same upload assembled by a concurrent request: it is there
    FileChunk.objects.filter(checksum__in=chunks).delete()
    FileChunk.objects.filter(created_at__lt=at - CHUNK_KEEP).delete()
    return Assembled("ok")
