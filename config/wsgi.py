"""The WSGI application gunicorn serves (`gunicorn config.wsgi`, see the Procfile)."""

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

READ_CHUNK = 64 * 1024
# Bodies up to this size stay in memory; larger ones are spooled to a temporary file.
IN_MEMORY_BYTES = 1024 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def largest_body_bytes() -> int:
    """The largest body any endpoint accepts; each endpoint then applies its own limit."""
    return max(
        settings.ERRORS_MAX_BODY_BYTES,
        settings.TELEMETRY_MAX_BODY_BYTES,
        settings.ALERTS_INTAKE_MAX_BODY_BYTES,
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0,
    )


class ChunkedBodies:
    """Gives a body sent with `Transfer-Encoding: chunked` the Content-Length Django needs.

    Django reads a request without Content-Length as having no body, so a client that streams
    its body (the Sentry JavaScript SDKs on Node do for every envelope) would have each one
    read as empty. gunicorn has already removed the chunk framing; this reads the body whole,
    up to the largest that any endpoint accepts, and hands Django a sized stream, so every
    endpoint applies its own size limit (413) exactly as it does to a sized body.
    """

    def __init__(self, app: WSGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)
            size = 0
            stream = environ["wsgi.input"]
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                if size > self.limit:
                    body.close()
                    return self._too_large(start_response)
                body.write(chunk)
            body.seek(0)
            environ["wsgi.input"] = body
            environ["CONTENT_LENGTH"] = str(size)
        return self.app(environ, start_response)

    def _too_large(self, start_response: StartResponse) -> Iterable[bytes]:
        payload = json.dumps({"error": f"body: larger than {self.limit} bytes"}).encode()
        start_response(
            "413 Request Entity Too Large",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Connection", "close")],
        )
        return [payload]


# django-stubs type WSGIHandler's answer as HttpResponseBase, which declares no __iter__; every
# response Django returns (HttpResponse, StreamingHttpResponse) is an iterable of bytes.
application = ChunkedBodies(get_wsgi_application(), limit=largest_body_bytes())  # type: ignore[arg-type]
