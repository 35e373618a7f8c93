"""Public bodies (the status page, its Statuspage JSON) rendered once and served many times.

A 200-component page is over a megabyte of HTML, nine tenths of it the 90-day bars, and
gzip takes it to under a tenth. So a body is compressed once, when it is rendered, and
kept both ways: under the page's content version in the shared cache (every web process
sees a posted update at once) and in a small copy in this process (a hit then reads no
file or socket and unpickles nothing, and still answers while Redis is away). A client
that accepts gzip gets the compressed bytes as they are; one that repeats a request with
the ETag it was given gets a 304.
"""

import gzip
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from monitoring.common.shared_cache import cache_get, cache_set

# Several pages, each with its HTML at two bases and seven JSON documents, fit; a busy
# deployment's few large pages are the ones kept.
LOCAL_ENTRIES = 48
# Fast enough to run on every render (a 1 MB page compresses in about 10 ms) for most of
# level 9's gain.
GZIP_LEVEL = 6
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@dataclass(frozen=True)
class Body:
    plain: bytes
    gzipped: bytes
    etag: str
    # Wall-clock time after which the body must be rendered again (its facts are then
    # older than the snapshot it came from may be).
    expires: float


_local: dict[str, Body] = {}


def forget_local() -> None:
    """Drop this process's copies (tests start from nothing; the shared cache is theirs)."""
    _local.clear()


def cached_body(key: str, render: Callable[[], tuple[bytes, float]]) -> Body:
    """The body kept under `key`, rendering it with `render` when neither this process nor
    the shared cache holds a live copy. `render` gives the bytes and how many seconds they
    may be served; zero or less means serve them once and keep nothing."""
    now = time.time()
    body = _local.get(key)
    if body is not None and body.expires > now:
        return body
    body = cache_get(key)
    if body is None or body.expires <= now:
        plain, seconds = render()
        gzipped = gzip.compress(plain, GZIP_LEVEL, mtime=0)
        etag = '"' + hashlib.blake2b(plain, digest_size=12).hexdigest() + '"'
        body = Body(plain=plain, gzipped=gzipped, etag=etag, expires=now + seconds)
        if seconds <= 0:
            return body
        cache_set(key, body, seconds)
    _local[key] = body
    # The oldest copies go first; a page's version moves on with every write, so what is
    # dropped is mostly what no request asks for any more.
    while len(_local) > LOCAL_ENTRIES:
        _local.pop(next(iter(_local)), None)
    return body


def body_response(request: HttpRequest, body: Body, *, content_type: str, status: int = 200) -> HttpResponse:
    """The answer for `body`: 304 when the client holds it already, gzipped when the client
    accepts that, and marked so caches between keep the two apart."""
    held = request.headers.get("If-None-Match")
    if status == 200 and held and {"*", body.etag} & {tag.removeprefix("W/") for tag in parse_etags(held)}:
        response: HttpResponse = HttpResponseNotModified()
    elif _ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
        response = HttpResponse(body.gzipped, content_type=content_type, status=status)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body.plain, content_type=content_type, status=status)
    if status == 200:
        response["ETag"] = body.etag
    patch_vary_headers(response, ("Accept-Encoding",))
    return response
