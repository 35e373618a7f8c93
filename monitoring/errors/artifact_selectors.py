"""Reads of uploaded artifact bundles: which source map serves a minified file."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from monitoring.models import ArtifactBundle, ArtifactBundleFile, Project

SOURCE_MAP = ArtifactBundleFile.Type.SOURCE_MAP
MINIFIED = ArtifactBundleFile.Type.MINIFIED_SOURCE


@dataclass(frozen=True)
class MapRef:
    file_id: int
    url: str  # the map's own URL in its bundle ("~/dist/app.min.js.map"): its sources are relative to it
    bundle_checksum: str  # with the URL, names the map's content whatever row holds it


def tilde_url(abs_path: str) -> str:
    """ "http://host/static/app.js?v=2" → "~/static/app.js": how sentry-cli names uploaded files."""
    parts = urlsplit(abs_path)
    path = parts.path if parts.scheme or parts.netloc else abs_path
    return "~" + (path if path.startswith("/") else "/" + path)


def sourcemap_by_debug_id(*, project: Project, debug_id: str) -> MapRef | None:
    row = (
        ArtifactBundleFile.objects.filter(bundle__project=project, debug_id=debug_id.lower(), type=SOURCE_MAP)
        .order_by("-bundle__created_at", "-id")
        .values_list("id", "url", "bundle__checksum")
        .first()
    )
    return MapRef(*row) if row else None


def _join(base: str, reference: str) -> str:
    """A Sourcemap header or sourceMappingURL, relative to the file that names it."""
    if reference.startswith("~/") or "://" in reference:
        return tilde_url(reference) if "://" in reference else reference
    if reference.startswith("/"):
        return "~" + reference
    return base.rsplit("/", 1)[0] + "/" + reference


def sourcemap_by_release(*, project: Project, release: str, dist: str, abs_path: str) -> MapRef | None:
    """The map of the minified file uploaded for this release (and dist) at this URL: by
    the file's Sourcemap header, else its URL with .map added, within the same bundle."""
    if not release:
        return None
    url = tilde_url(abs_path)
    bundles = ArtifactBundle.objects.filter(project=project, release=release, dist=dist).order_by("-created_at", "-id")
    for bundle_id in bundles.values_list("id", flat=True)[:20]:
        files = ArtifactBundleFile.objects.filter(bundle_id=bundle_id)
        minified = files.filter(url__in=[url, abs_path]).exclude(type=SOURCE_MAP).values_list("sourcemap", flat=True)
        header = minified.first()
        if header is None:
            continue
        wanted = _join(url, header) if header else url + ".map"
        row = files.filter(url=wanted, type=SOURCE_MAP).values_list("id", "url", "bundle__checksum").first()
        if row:
            return MapRef(*row)
    return None


def artifact_file_content(file_id: int) -> bytes | None:
    content = ArtifactBundleFile.objects.filter(pk=file_id).values_list("content", flat=True).first()
    return bytes(content) if content is not None else None
