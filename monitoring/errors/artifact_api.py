"""Sentry's upload endpoints that `sentry-cli sourcemaps upload` calls (see
monitoring/errors/services/artifacts.py for the protocol): chunk-upload options and
chunks, and artifact bundle assembly; and the legacy release files sentry-cli 2 uploads one by
one. API token as for releases (release_api.py)."""

import re
import zlib
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.errors.release_api import Invalid, SentryApiView, _body, _projects, _text
from monitoring.errors.release_selectors import release_files
from monitoring.errors.services.artifacts import (
    CHUNK_SIZE,
    CHUNKS_PER_REQUEST,
    MAX_BUNDLE_BYTES,
    InvalidChunk,
    artifact_bundle_assemble,
    chunks_store,
)
from monitoring.errors.services.release_files import (
    InvalidReleaseFile,
    ReleaseFileExists,
    ReleaseFileTooLarge,
    release_file_store,
)
from monitoring.models import Release
from monitoring.projects.api.scoping import project_scoped

SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
# A request's chunks plus the multipart framing around them.
MAX_REQUEST_BYTES = CHUNK_SIZE * CHUNKS_PER_REQUEST + 64 * 1024


class TooLarge(exceptions.APIException):
    status_code = 413


def _gunzip(data: bytes, name: str) -> bytes:
    """A gzip chunk, read no further than a chunk may be: a small bomb stays small."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, CHUNK_SIZE + 1)
    except zlib.error as exc:
        raise Invalid(f"chunk {name}: not gzip: {exc}") from exc
    if len(out) > CHUNK_SIZE or inflater.unconsumed_tail:
        raise TooLarge(f"chunk {name}: over the chunk size ({CHUNK_SIZE} bytes)")
    return out


class ChunkUploadView(SentryApiView):
    """GET: the upload's terms. POST: chunks, as multipart files named by their SHA-1
    (field `file`, or `file_gzip` for gzip-compressed ones)."""

    parser_classes = [MultiPartParser]

    def get(self, request: Request, org: str) -> Response:
        url = request.build_absolute_uri(reverse("sentry-chunk-upload", kwargs={"org": org}))
        return Response(
            {
                "url": url,
                "chunkSize": CHUNK_SIZE,
                "chunksPerRequest": CHUNKS_PER_REQUEST,
                "maxFileSize": MAX_BUNDLE_BYTES,
                "maxRequestSize": CHUNK_SIZE * CHUNKS_PER_REQUEST,
                "concurrency": 4,
                "hashAlgorithm": "sha1",
                "compression": ["gzip"],
                # release_files: sentry-cli 2 (the bundler plugins run it) chunk-uploads only
                # when offered it, then assembles an artifact bundle as artifact_bundles says.
                "accept": ["artifact_bundles", "artifact_bundles_v2", "release_files", "sources"],
            }
        )

    def post(self, request: Request, org: str) -> Response:
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            raise Invalid("Content-Length: not a number") from None
        if not length:
            raise Invalid("Content-Length is required")
        if length > MAX_REQUEST_BYTES:
            raise TooLarge(f"request over {MAX_REQUEST_BYTES} bytes")
        chunks: dict[str, bytes] = {}
        for field in ("file", "file_gzip"):
            for upload in request.FILES.getlist(field):
                name = upload.name or ""
                if not SHA1.match(name):
                    raise Invalid(f"{field}: each chunk is named by its SHA-1, not {name[:60]!r}")
                data = upload.read(CHUNK_SIZE + 1)
                chunks[name.lower()] = _gunzip(data, name) if field == "file_gzip" else data
        if not chunks:
            raise Invalid("file: no chunks in the request")
        if len(chunks) > CHUNKS_PER_REQUEST:
            raise Invalid(f"file: at most {CHUNKS_PER_REQUEST} chunks a request")
        try:
            chunks_store(chunks=chunks, at=timezone.now())
        except InvalidChunk as exc:
            raise Invalid(str(exc)) from exc
        return Response({})


class ArtifactBundleAssembleView(SentryApiView):
    def post(self, request: Request, org: str) -> Response:
        body = _body(request)
        checksum, chunks = body.get("checksum"), body.get("chunks")
        if not isinstance(checksum, str) or not SHA1.match(checksum):
            raise Invalid("checksum: the archive's SHA-1 (40 hex digits)")
        if not isinstance(chunks, list) or not all(isinstance(c, str) and SHA1.match(c) for c in chunks):
            raise Invalid("chunks: a list of SHA-1s (40 hex digits each)")
        projects = _projects(request, body, required=True) or []
        done = artifact_bundle_assemble(
            projects=projects,
            checksum=checksum,
            chunks=chunks,
            release=_text(body, "version", 250) or "",
            dist=_text(body, "dist", 64) or "",
            at=timezone.now(),
        )
        return Response({"state": done.state, "missingChunks": done.missing, "detail": done.detail})


def _release_file_json(
    *, pk: int, name: str, dist: str, sourcemap: str, sha1: str, size: int, created_at: datetime
) -> dict:
    """Sentry's release file, as sentry-cli reads it."""
    return {
        "id": str(pk),
        "name": name,
        "dist": dist or None,
        "headers": {"Sourcemap": sourcemap} if sourcemap else {},
        "sha1": sha1,
        "size": size,
        "dateCreated": created_at.isoformat().replace("+00:00", "Z"),
    }


def _release(request: Request, project: str, version: str) -> Release:
    releases = Release.objects.filter(project__slug=project, version=version).select_related("project")
    release = project_scoped(releases, request).first()
    if release is None:
        raise exceptions.NotFound(
            f"Release not found: no release {version!r} in project {project!r} among this token's projects"
        )
    return release


def _headers(values: list[str]) -> dict[str, str]:
    """sentry-cli's `header` fields, "Name:value" each."""
    headers = {}
    for value in values:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            raise Invalid(f"header: 'Name:value', not {value[:60]!r}")
        headers[name.strip()] = rest.strip()
    return headers


class ReleaseFilesView(SentryApiView):
    """Legacy release files (services/release_files.py). GET: the release's files. POST: one
    file, multipart: `file`, `name` (its URL, `~/static/app.min.js`), `dist`, and `header`s."""

    parser_classes = [MultiPartParser]

    def get(self, request: Request, org: str, project: str, version: str) -> Response:
        release = _release(request, project, version)
        return Response(
            [
                _release_file_json(
                    pk=f.id,
                    name=f.name,
                    dist=f.dist,
                    sourcemap=f.sourcemap,
                    sha1=f.sha1,
                    size=f.size,
                    created_at=f.created_at,
                )
                for f in release_files(release)
            ]
        )

    def post(self, request: Request, org: str, project: str, version: str) -> Response:
        release = _release(request, project, version)
        upload = request.FILES.get("file")
        if upload is None:
            raise Invalid("file: the file to upload is required (multipart field 'file')")
        if upload.size is not None and upload.size > MAX_BUNDLE_BYTES:
            raise TooLarge(f"file: over {MAX_BUNDLE_BYTES} bytes")
        name = request.POST.get("name") or upload.name or ""
        try:
            stored = release_file_store(
                release=release,
                name=str(name),
                dist=request.POST.get("dist") or "",
                content=upload.read(MAX_BUNDLE_BYTES + 1),
                headers=_headers(request.POST.getlist("header")),
                at=timezone.now(),
            )
        except ReleaseFileExists as exc:
            return Response({"detail": str(exc)}, status=409)
        except ReleaseFileTooLarge as exc:
            raise TooLarge(str(exc)) from exc
        except InvalidReleaseFile as exc:
            raise Invalid(str(exc)) from exc
        body = _release_file_json(
            pk=stored.file.pk,
            name=stored.file.url,
            dist=stored.dist,
            sourcemap=stored.file.sourcemap,
            sha1=stored.sha1,
            size=stored.size,
            created_at=stored.created_at,
        )
        return Response(body, status=201)
