"""Static files as WhiteNoise serves them, compressed only where a compressed copy is ever sent."""

from collections.abc import Iterable, Iterator

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CompressedHashedStaticFiles(CompressedManifestStaticFilesStorage):
    """Compresses the hashed copies only, which is every file a page links to.

    WhiteNoise compresses each file twice over (gzip and Brotli) under both its plain and its
    hashed name, and a first start spent most of a minute on it. Templates link the hashed
    names; the plain names stay for the few URLs written down outside the portal (the Web
    Vitals tag on customers' pages), which are small and served as they are. Source maps are
    fetched only by a developer's browser tools and are left uncompressed too (settings).
    """

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        hashed = set(self.hashed_files.values())
        yield from super().compress_files([path for path in paths if path in hashed])
