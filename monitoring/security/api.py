"""POST /api/v1/security-events: what an application reports about attacks on it (a rate
limit hit, an injection attempt, a failed login), with the project's ingest key. One event or
a list of up to MAX_BATCH; all or nothing, a refusal names the item and field."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.common.strict import StrictFieldsSerializer, StrictQueryParameters
from monitoring.projects.api.authentication import IngestKeyAuthentication
from monitoring.projects.api.permissions import HasIngestKey
from monitoring.security.models import SecurityEvent
from monitoring.security.services import security_events_record
from monitoring.telemetry.ratelimit import IngestKeyTokenBucket

MAX_BATCH = 100
# A client's clock may run a little ahead; an event further in the future is a mistake.
FUTURE_SLACK = timedelta(minutes=5)


@extend_schema_field({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "nullable": True})
class IPAddressField(serializers.IPAddressField):
    """An IPv4 or IPv6 address, and the schema says so rather than "any string"."""


class SecurityEventIn(StrictFieldsSerializer):
    """One event an application reports; a key it does not know is refused, naming it."""

    kind = serializers.ChoiceField(choices=SecurityEvent.Kind.choices)
    ip_address = IPAddressField(required=False, allow_null=True, default=None)
    endpoint = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    user_agent = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    user = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    timestamp = serializers.DateTimeField(required=False, help_text="When it happened; now if left out.")
    detail = serializers.DictField(required=False, default=dict)

    def validate_timestamp(self, value):
        if value > timezone.now() + FUTURE_SLACK:
            raise serializers.ValidationError("is in the future")
        return value


class BatchSchema(AutoSchema):
    """The list's bounds in the schema: drf-spectacular writes a many=True body as an unbounded
    array, so an empty or oversized batch would look valid and get its 400."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        return {**schema, "minItems": 1, "maxItems": MAX_BATCH}, required


@extend_schema(
    request=SecurityEventIn(many=True),
    # The refusals (400 naming the item and field, 401, 429, ...) are documented for every
    # ingest endpoint alike by monitoring.common.openapi.document_error_answers.
    responses={201: inline_serializer("SecurityEventsStored", {"stored": serializers.IntegerField()})},
    examples=[
        OpenApiExample(
            "An injection attempt",
            # One item: the schema wraps a many=True request's example in the list itself.
            value={"kind": "sql_injection", "ip_address": "203.0.113.9", "endpoint": "/search", "user": ""},
            request_only=True,
        ),
        OpenApiExample("Stored", value={"stored": 1}, response_only=True, status_codes=["201"]),
    ],
    description="Security events {kind: rate_limit|sql_injection|xss|auth_failure|account_lockout|custom, "
    "ip_address, endpoint, user_agent, user, timestamp?, detail?}, one object or a list of up to 100. "
    "All or nothing: any invalid item gets 400 naming it, and nothing is stored.",
)
class SecurityEventsView(StrictQueryParameters, APIView):
    authentication_classes = [IngestKeyAuthentication]
    permission_classes = [HasIngestKey]
    throttle_classes = [IngestKeyTokenBucket]
    # JSON only: a form or multipart body is refused with a 415 rather than read as one flat item.
    parser_classes = [JSONParser]
    schema = BatchSchema()

    def post(self, request):
        items = request.data if isinstance(request.data, list) else [request.data]
        incoming = SecurityEventIn(data=items, many=True, allow_empty=False, max_length=MAX_BATCH)
        incoming.is_valid(raise_exception=True)
        stored = security_events_record(project_id=request.auth.project_id, events=incoming.validated_data)
        return Response({"stored": stored}, status=status.HTTP_201_CREATED)
