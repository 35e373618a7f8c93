"""What both intake endpoints share: the token, the size limit, strict JSON, all or nothing."""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from rest_framework import exceptions, permissions, status
from rest_framework.views import APIView

from alerts.intake.api import schema  # noqa: F401  registers the token's OpenAPI description
from alerts.intake.api.authentication import IntegrationTokenAuthentication
from alerts.models import Integration
from monitoring.common.strict import StrictQueryParameters


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class PayloadInvalid(exceptions.ValidationError):
    """400 naming the field: {"error": "invalid input", "fields": {"alerts[2].labels": [...]}}."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})


class HasIntegration(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Integration)


class IntakeView(StrictQueryParameters, APIView):
    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [HasIntegration]
    parser_classes = []  # read as bytes: the limit is checked before the body is parsed
    credential_parameters = ("token",)  # senders that cannot set headers
    integration_kind = ""
    token_in_body = False

    def read_body(self, request) -> bytes:
        limit = settings.ALERTS_INTAKE_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise BodyTooLarge(f"body: {declared} bytes is over the limit of {limit}")
        try:
            body = request._request.body
        except RequestDataTooBig:
            raise BodyTooLarge(f"body: over the limit of {limit} bytes") from None
        if len(body) > limit:
            raise BodyTooLarge(f"body: {len(body)} bytes is over the limit of {limit}")
        return body

    def read_json(self, request) -> dict:
        try:
            data = json.loads(self.read_body(request))
        except UnicodeDecodeError:
            raise PayloadInvalid("body", "expected UTF-8 JSON") from None
        except ValueError as exc:
            raise PayloadInvalid("body", f"not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise PayloadInvalid("body", "expected a JSON object")
        return data

    @staticmethod
    def atomically(work):
        # One payload is one decision: a failure anywhere leaves nothing of it behind.
        with transaction.atomic():
            return work()
