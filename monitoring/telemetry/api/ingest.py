"""Client telemetry: POST /api/v1/vitals, /api/v1/metrics and /api/v1/events.

Authenticated by the project's ingest key (`Authorization: Bearer`, `X-Lookout-Key`, or
`?key=` for beacons), before the body is read. Batches are all or nothing: one bad item
and the answer is 400 naming every bad item and field, with nothing stored; 200 means
the whole batch is committed. A body that is not JSON or text/plain (what
`navigator.sendBeacon` sends) gets 415, bodies over TELEMETRY_MAX_BODY_BYTES 413, a key
over its rate 429 with Retry-After, a database outage 503. Every refusal a project's key
made is counted per project and day (IngestRejection).
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.common.strict import StrictQueryParameters
from monitoring.models import IngestKey, IngestRejection
from monitoring.projects.api.authentication import IngestKeyAuthentication
from monitoring.projects.api.permissions import HasIngestKey
from monitoring.telemetry import payloads
from monitoring.telemetry.api import schemas
from monitoring.telemetry.ratelimit import IngestKeyTokenBucket
from monitoring.telemetry.services.ingest import CardinalityExceeded, ingest_rejection_count, telemetry_ingest


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class OriginRefused(exceptions.PermissionDenied):
    pass


# JSON, and text/plain because navigator.sendBeacon cannot send JSON cross-origin without
# a preflight. No Content-Type at all is read as JSON too: it is not a claim of anything
# else, and scripts that forget the header keep working.
ACCEPTED_CONTENT_TYPES = ("application/json", "text/plain")


def content_type_check(request) -> None:
    media_type = request.META.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if media_type and media_type not in ACCEPTED_CONTENT_TYPES:
        raise exceptions.UnsupportedMediaType(
            media_type,
            detail=f"Content-Type: {media_type!r} is not accepted; send application/json, "
            "or text/plain as navigator.sendBeacon does",
        )


class InvalidBatch(exceptions.ValidationError):
    def __init__(self, error: payloads.PayloadError):
        super().__init__({path: [message] for path, message in error.errors.items()})
        self.reason = (
            IngestRejection.Reason.CARDINALITY
            if isinstance(error, CardinalityExceeded)
            else IngestRejection.Reason.INVALID
        )


def allowed_origin(project, origin: str) -> bool:
    allowed = {line.strip().rstrip("/").lower() for line in project.telemetry_allowed_origins.splitlines()}
    return "*" in allowed or origin.rstrip("/").lower() in allowed


VITALS_BODY = schemas.batch(schemas.VITAL, "vitals")
METRICS_BODY = schemas.batch(schemas.POINT, "points")
EVENTS_BODY = schemas.batch(schemas.EVENT, "events")
STORED = inline_serializer("TelemetryStored", {"stored": serializers.IntegerField()})
# What a 200 looks like; each view's request example is marked request_only, or drf-spectacular
# shows the request body as the answer too.
STORED_EXAMPLE = OpenApiExample("Stored", value={"stored": 1}, response_only=True)


class TelemetryIngestView(StrictQueryParameters, APIView):
    authentication_classes = [IngestKeyAuthentication]
    permission_classes = [HasIngestKey]
    throttle_classes = [IngestKeyTokenBucket]
    parser_classes = []  # the body is read as bytes: beacons send JSON as text/plain
    credential_parameters = ("key",)  # beacons cannot send headers
    plural = ""

    @staticmethod
    def item(raw: dict[str, Any], window: payloads.Window) -> payloads.PointIn:
        """One item of the batch, read (a vital, a point, an event): each view names its reader."""
        raise NotImplementedError

    def post(self, request):
        project = request.auth.project
        content_type_check(request)
        points = self._parse(self._body(request))
        try:
            stored = telemetry_ingest(project=project, points=points, plural=self.plural)
        except payloads.PayloadError as exc:
            raise InvalidBatch(exc) from None
        return Response({"stored": stored})

    def options(self, request, *args, **kwargs):
        """CORS preflight: browsers send it without custom headers, so the key is `?key=`."""
        return Response(status=status.HTTP_204_NO_CONTENT)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin and not allowed_origin(request.auth.project, origin):
            raise OriginRefused(f"origin: {origin} is not among this project's allowed telemetry origins")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        key = getattr(request, "_auth", None)  # not .auth: that would authenticate again
        if origin and isinstance(key, IngestKey) and allowed_origin(key.project, origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Lookout-Key"
            response["Access-Control-Expose-Headers"] = "Retry-After"
            response["Access-Control-Max-Age"] = "600"
        if origin:
            response["Vary"] = "Origin"
        return response

    def handle_exception(self, exc):
        reason = self._rejection_reason(exc)
        key = getattr(self.request, "_auth", None)
        if reason and isinstance(key, IngestKey):
            ingest_rejection_count(project=key.project, reason=reason)
        return super().handle_exception(exc)

    @staticmethod
    def _rejection_reason(exc) -> str | None:
        if isinstance(exc, InvalidBatch):
            return exc.reason
        if isinstance(exc, exceptions.ValidationError):
            return IngestRejection.Reason.INVALID
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return IngestRejection.Reason.INVALID
        if isinstance(exc, BodyTooLarge):
            return IngestRejection.Reason.TOO_LARGE
        if isinstance(exc, exceptions.Throttled):
            return IngestRejection.Reason.THROTTLED
        if isinstance(exc, OriginRefused):
            return IngestRejection.Reason.ORIGIN
        return None

    def _body(self, request) -> bytes:
        limit = settings.TELEMETRY_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:  # refused before reading a byte of it
            raise BodyTooLarge(f"body: {declared} bytes is over the limit of {limit}")
        try:
            body = request.body
        except RequestDataTooBig:
            raise BodyTooLarge(f"body: over the limit of {limit} bytes") from None
        if len(body) > limit:
            raise BodyTooLarge(f"body: {len(body)} bytes is over the limit of {limit}")
        return body

    def _parse(self, body: bytes):
        try:
            return payloads.parse_body(body, plural=self.plural, item=type(self).item)
        except payloads.PayloadError as exc:
            raise InvalidBatch(exc) from None


@extend_schema(
    request={"text/plain": VITALS_BODY, "application/json": VITALS_BODY},
    responses=STORED,
    examples=[
        OpenApiExample(
            "LCP from web-vitals",
            value={
                "name": "LCP",
                "value": 1830.2,
                "rating": "good",
                "delta": 1830.2,
                "id": "v4-1",
                "navigationType": "navigate",
                "url": "https://shop.example/cart",
                "route": "/cart",
                "device": "mobile",
                "connection": "4g",
            },
            request_only=True,
        ),
        STORED_EXAMPLE,
    ],
    description="One web-vitals metric object, or a batch of them, as sent by navigator.sendBeacon. "
    "All or nothing: any invalid item gets 400 naming it, and nothing is stored.",
)
class VitalsView(TelemetryIngestView):
    plural = "vitals"
    item = staticmethod(payloads.vital)


@extend_schema(
    request={"application/json": METRICS_BODY, "text/plain": METRICS_BODY},
    responses=STORED,
    examples=[
        OpenApiExample(
            "A batch",
            value={
                "points": [
                    {
                        "name": "api.response_time",
                        "value": 182,
                        "unit": "ms",
                        "type": "distribution",
                        "tags": {"endpoint": "/orders"},
                    }
                ]
            },
            # No timestamp: the point is stored as of now. A fixed one would be too old to store
            # a few weeks after it was written (TELEMETRY_MAX_LATENESS_SECONDS).
            request_only=True,
        ),
        STORED_EXAMPLE,
    ],
    description="A batch of points {name, value, unit, tags, type: counter|gauge|distribution, "
    "timestamp?}. All or nothing: any invalid item gets 400 naming it, and nothing is stored.",
)
class MetricsView(TelemetryIngestView):
    plural = "points"
    item = staticmethod(payloads.metric)


@extend_schema(
    request={"application/json": EVENTS_BODY, "text/plain": EVENTS_BODY},
    responses=STORED,
    examples=[
        OpenApiExample(
            "An action", value={"action": "checkout", "duration": 812, "metadata": {"plan": "pro"}}, request_only=True
        ),
        STORED_EXAMPLE,
    ],
    description="User actions and feature use {action, duration (ms, optional), metadata (flat, becomes "
    "tags)}, one or a batch. All or nothing: any invalid item gets 400 naming it.",
)
class EventsView(TelemetryIngestView):
    plural = "events"
    item = staticmethod(payloads.event)
