"""Sentry's ingest endpoints: POST /api/<project_id>/envelope/ and the legacy /store/.

They speak Sentry's protocol, so their answers are Sentry's: {"id": …} on success,
{"detail": …} otherwise, rate limits in X-Sentry-Rate-Limits. The key is checked before
the body is read (only an envelope's header line is read first when the key is in it).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from monitoring.errors.body import BadEncoding, BodyReader, BodyTooLarge
from monitoring.errors.envelope import EnvelopeError, envelope_weight, parse, parse_header
from monitoring.errors.ratelimit import rate_limit_wait
from monitoring.errors.services.ingest import InvalidBody, envelope_ingest, store_ingest
from monitoring.metrics.access import client_address
from monitoring.projects.services.ingest_keys import ingest_key_authenticate

# Browser SDKs post cross-origin; the key, not the origin, is what authorises them.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": (
        "content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage"
    ),
    "Access-Control-Expose-Headers": "x-sentry-error, x-sentry-rate-limits, retry-after",
    "Access-Control-Max-Age": "3600",
}
HEADER_LINE_LIMIT = 64 * 1024


def _answer(status: int, body: dict, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in {**CORS_HEADERS, **headers}.items():
        response[name] = value
    return response


def _error(status: int, detail: str, **headers: str) -> JsonResponse:
    return _answer(status, {"detail": detail}, **{"X-Sentry-Error": detail, **headers})


def _rate_limited(wait: int) -> JsonResponse:
    return _error(429, "rate limited", **{"Retry-After": str(wait), "X-Sentry-Rate-Limits": f"{wait}::key"})


def _auth_fields(request: HttpRequest) -> dict[str, str]:
    """sentry_key and sentry_secret from X-Sentry-Auth, Authorization or the query string."""
    for header in ("X-Sentry-Auth", "Authorization"):
        value = request.headers.get(header, "")
        if value.lower().startswith("sentry "):
            fields = {}
            for part in value[7:].split(","):
                name, _, field_value = part.strip().partition("=")
                fields[name.strip()] = field_value.strip()
            return fields
    return {name: request.GET.get(name, "") for name in ("sentry_key", "sentry_secret")}


def _key_from_dsn(headers: dict) -> str:
    dsn = headers.get("dsn")
    if not isinstance(dsn, str):
        return ""
    try:
        return urlsplit(dsn).username or ""
    except ValueError:
        return ""


def _ingest(request: HttpRequest, project_id: int, *, is_envelope: bool) -> HttpResponse:
    if request.method == "OPTIONS":
        return _answer(200, {})
    if request.method != "POST":
        return _error(405, "method not allowed; use POST", Allow="POST, OPTIONS")
    max_read = settings.ERRORS_MAX_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "invalid Content-Length")
    if declared > max_read:
        return _error(413, f"body over {max_read} bytes")
    try:
        reader = BodyReader(
            request,
            content_encoding=request.headers.get("Content-Encoding", ""),
            max_read=max_read,
            max_size=settings.ERRORS_MAX_ENVELOPE_BYTES,
        )
    except BadEncoding as exc:
        return _error(415, str(exc))
    fields = _auth_fields(request)
    public_key = fields.get("sentry_key", "")
    try:
        if not public_key and is_envelope:
            public_key = _key_from_dsn(parse_header(reader.first_line(HEADER_LINE_LIMIT)))
        if not public_key:
            return _error(401, "missing authorization information: sentry_key")
        secret = fields.get("sentry_secret") or None
        key = ingest_key_authenticate(public_key=public_key, secret=secret)
        if key is None:
            return _error(401, "invalid sentry_key (unknown or revoked) or sentry_secret")
        if key.project_id != project_id:
            return _error(403, "sentry_key does not belong to this project")
        # One token before the body is read: a drained key costs no reading. The envelope's
        # other items are paid for once it is parsed.
        wait = rate_limit_wait(key_id=key.pk)
        if wait:
            return _rate_limited(wait)
        body = reader.read_all()
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except BadEncoding as exc:
        return _error(400, f"body could not be decompressed: {exc}")
    except EnvelopeError as exc:
        return _error(400, str(exc))
    received_at = timezone.now()
    ip = client_address(request)
    if not is_envelope:
        try:
            event_id = store_ingest(project=key.project, body=body, client_ip=ip, received_at=received_at)
        except OverflowError:
            return _error(413, f"event over {settings.ERRORS_MAX_EVENT_BYTES} bytes")
        except InvalidBody as exc:
            return _error(400, f"invalid event: {exc}")
        return _answer(200, {"id": event_id})
    try:
        envelope = parse(body)
        weight = envelope_weight(envelope)
    except EnvelopeError as exc:  # EnvelopeTooBig is one: refused whole, nothing stored
        return _error(400, str(exc))
    wait = rate_limit_wait(key_id=key.pk, cost=weight - 1)
    if wait:
        return _rate_limited(wait)
    result = envelope_ingest(
        project=key.project, envelope=envelope, client_ip=ip, received_at=received_at, key_id=key.pk
    )
    if result.limited:
        # The rest of the envelope was taken; the SDK backs off only the categories named.
        limits = ",".join(f"{wait}:{category}:key" for category, wait in sorted(result.limited.items()))
        return _answer(200, {"id": result.event_id}, **{"X-Sentry-Rate-Limits": limits})
    return _answer(200, {"id": result.event_id})


@csrf_exempt
def envelope_view(request: HttpRequest, project_id: int) -> HttpResponse:
    return _ingest(request, project_id, is_envelope=True)


@csrf_exempt
def store_view(request: HttpRequest, project_id: int) -> HttpResponse:
    return _ingest(request, project_id, is_envelope=False)
