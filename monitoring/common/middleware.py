import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from monitoring.common.request_context import incoming_or_new, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Gives each request an id (the caller's X-Request-ID, or a new one) and echoes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_or_new(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Not reset on the way out: Django logs error responses after the middleware has
        # returned, and that line needs the id too. request_finished clears it.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class DatabaseUnavailableMiddleware:
    """A lost database answers 503 with Retry-After while it lasts, not a 500.

    Connections are health-checked on reuse (CONN_HEALTH_CHECKS), so the first request after
    the database is back reconnects: no restart needed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable", exc_info=exception)
        return JsonResponse(
            {"error": "database unavailable; nothing was stored, retry later"},
            status=503,
            headers={"Retry-After": "30"},
        )
