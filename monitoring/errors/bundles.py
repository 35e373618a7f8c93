"""Artifact bundles as sentry-cli builds them (symbolic's source bundle): the bytes "SYSB"
and a version, then a ZIP archive holding manifest.json and the files under files/.

manifest.json: {"files": {"files/_/_/app.min.js": {"type": "minified_source",
"url": "~/app.min.js", "headers": {"debug-id": "…", "sourcemap": "app.min.js.map"}}, …},
"attributes": {"debug_id": …, "release": …, "dist": …}}. Pure; no database.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field

from monitoring.errors.sourcemaps import InvalidSourceMap, source_map_check

MAGIC = b"SYSB"
FILE_TYPES = frozenset({"minified_source", "source_map", "source", "indexed_ram_bundle"})
MAX_FILES = 10_000


class InvalidBundle(ValueError):
    """The message says what is wrong with the archive or which file of it."""


@dataclass(frozen=True)
class BundleFile:
    type: str
    url: str
    debug_id: str
    sourcemap: str
    content: bytes


@dataclass
class Bundle:
    bundle_id: str = ""
    release: str = ""
    dist: str = ""
    files: list[BundleFile] = field(default_factory=list)


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _header(headers: dict, name: str) -> str:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return ""


def bundle_read(data: bytes, *, max_unpacked: int) -> Bundle:
    """Every file of the archive, each source map checked readable (see source_map_check).
    InvalidBundle naming the fault: nothing of a bundle with one bad file is kept."""
    if not data.startswith(MAGIC):
        raise InvalidBundle("not an artifact bundle (it must start with SYSB, as sentry-cli writes them)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = {info.filename: info for info in archive.infolist()}
        if "manifest.json" not in entries:
            raise InvalidBundle("the archive has no manifest.json")
        if sum(info.file_size for info in entries.values()) > max_unpacked:
            raise InvalidBundle(f"the archive unpacks to more than {max_unpacked} bytes")
        manifest = json.loads(archive.read("manifest.json"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
            raise InvalidBundle("manifest.json: files must be an object")
        files = manifest.get("files", {})
        if len(files) > MAX_FILES:
            raise InvalidBundle(f"manifest.json lists more than {MAX_FILES} files")
        attributes = _object(manifest.get("attributes"))
        bundle = Bundle(
            bundle_id=str(attributes.get("debug_id") or "")[:64],
            release=str(attributes.get("release") or "")[:250],
            dist=str(attributes.get("dist") or "")[:64],
        )
        for path, info in files.items():
            bundle.files.append(_file(archive, entries, path, info))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InvalidBundle(f"the archive is not a readable ZIP: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidBundle):
            raise
        raise InvalidBundle(f"manifest.json is not JSON: {exc}") from exc
    return bundle


def _file(archive: zipfile.ZipFile, entries: dict, path: str, info: object) -> BundleFile:
    if not isinstance(info, dict) or path not in entries:
        raise InvalidBundle(f"manifest.json: {path} is not in the archive")
    kind, url = info.get("type"), info.get("url")
    if kind not in FILE_TYPES:
        raise InvalidBundle(f"{path}: unknown type {kind!r}")
    if not isinstance(url, str) or not url or len(url) > 1000:
        raise InvalidBundle(f"{path}: url is required (at most 1000 characters)")
    headers = _object(info.get("headers"))
    content = archive.read(path)
    if kind == "source_map":
        try:
            source_map_check(content)
        except InvalidSourceMap as exc:
            raise InvalidBundle(f"{url}: malformed source map: {exc}") from exc
    return BundleFile(
        type=kind,
        url=url,
        debug_id=_header(headers, "debug-id").lower()[:36],
        sourcemap=_header(headers, "sourcemap")[:1000] or _header(headers, "x-sourcemap")[:1000],
        content=content,
    )
