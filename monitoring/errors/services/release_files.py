"""Legacy release files: one file per request, as sentry-cli 2 uploads source maps to a server
whose chunk upload does not accept release files (`sentry-cli releases files <version>
upload-sourcemaps`, or `sourcemaps upload --release` without debug ids).

A release's files are kept together in one artifact bundle per release and dist, so the
resolver finds a minified file and its map as it finds them within an uploaded bundle
(artifact_selectors.sourcemap_by_release). Nothing of a refused file is kept.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from monitoring.errors.services.artifacts import MAX_BUNDLE_BYTES, MAX_UNPACKED_BYTES
from monitoring.errors.sourcemaps import InvalidSourceMap, source_map_check
from monitoring.models import ArtifactBundle, ArtifactBundleFile, Release

# What sentry-cli names a minified file's map by, among the headers it sends with the file.
SOURCEMAP_HEADERS = ("sourcemap", "x-sourcemap")
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".bundle")


class InvalidReleaseFile(ValueError):
    """The message names the field or says what is wrong with the file."""


class ReleaseFileExists(ValueError):
    pass


class ReleaseFileTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class StoredFile:
    file: ArtifactBundleFile
    dist: str
    sha1: str
    size: int
    created_at: datetime


def _bundle_checksum(release: Release, dist: str) -> str:
    # The bundle's stand-in checksum: unique per release and dist, and unlike any archive's,
    # which hashes bytes starting "SYSB".
    key = f"release-files\0{release.pk}\0{dist}".encode()
    return hashlib.sha1(key).hexdigest()  # noqa: S324 a name, not a secret


def _type(name: str, content: bytes, sourcemap: str) -> str:
    if name.endswith(".map"):
        try:
            source_map_check(content)
        except InvalidSourceMap as exc:
            raise InvalidReleaseFile(f"file: {name} is a malformed source map: {exc}") from exc
        return ArtifactBundleFile.Type.SOURCE_MAP
    if sourcemap or name.endswith(SCRIPT_SUFFIXES):
        return ArtifactBundleFile.Type.MINIFIED_SOURCE
    return ArtifactBundleFile.Type.SOURCE


def release_file_store(
    *, release: Release, name: str, dist: str, content: bytes, headers: dict[str, str], at: datetime
) -> StoredFile:
    """Keep one uploaded file of a release under its URL (`~/static/app.min.js`).
    ReleaseFileExists for a name the release (and dist) already has, ReleaseFileTooLarge past
    the limits of a bundle, InvalidReleaseFile with the reason."""
    if not name or len(name) > 1000:
        raise InvalidReleaseFile("name: the file's URL is required (at most 1000 characters)")
    if len(dist) > 64:
        raise InvalidReleaseFile("dist: at most 64 characters")
    if len(content) > MAX_BUNDLE_BYTES:
        raise ReleaseFileTooLarge(f"file: over {MAX_BUNDLE_BYTES} bytes")
    lowered = {k.lower(): v for k, v in headers.items()}
    sourcemap = next((lowered[h] for h in SOURCEMAP_HEADERS if lowered.get(h)), "")
    if len(sourcemap) > 1000:
        # Cut short, it would name a map that does not exist.
        raise InvalidReleaseFile("header: the Sourcemap URL is longer than 1000 characters")
    # PostgreSQL's text cannot hold a NUL: refused here, naming the field.
    for field, value in (("name", name), ("dist", dist), ("header", sourcemap)):
        if "\x00" in value:
            raise InvalidReleaseFile(f"{field}: must not contain a NUL character")
    kind = _type(name, content, sourcemap)
    checksum = _bundle_checksum(release, dist)
    with transaction.atomic():
        try:
            with transaction.atomic():
                bundle, _ = ArtifactBundle.objects.get_or_create(
                    project_id=release.project_id,
                    checksum=checksum,
                    defaults={"release": release.version, "dist": dist, "created_at": at, "size": 0},
                )
        except IntegrityError:  # made by a concurrent upload of another file of the release
            bundle = ArtifactBundle.objects.get(project_id=release.project_id, checksum=checksum)
        # Counted under a row lock, so concurrent uploads cannot pass the limit together.
        bundle = ArtifactBundle.objects.select_for_update().get(pk=bundle.pk)
        if bundle.files.filter(url=name).exists():
            raise ReleaseFileExists(f"name: {release.version} already has a file {name}")
        if bundle.size + len(content) > MAX_UNPACKED_BYTES:
            raise ReleaseFileTooLarge(f"file: the release's files would pass {MAX_UNPACKED_BYTES} bytes")
        stored = ArtifactBundleFile.objects.create(
            bundle=bundle, type=kind, url=name, sourcemap=sourcemap, content=content
        )
        ArtifactBundle.objects.filter(pk=bundle.pk).update(size=F("size") + len(content))
    return StoredFile(
        file=stored,
        dist=dist,
        sha1=hashlib.sha1(content).hexdigest(),  # noqa: S324 what sentry-cli compares files by
        size=len(content),
        created_at=bundle.created_at,
    )
