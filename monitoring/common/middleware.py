import logging

from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError
from django.http import JsonResponse

from monitoring.common.exception_handler import data_error_message
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
    """A lost database answers 503 with Retry-After while it lasts, not a 500; a value the
    database refuses (DataError) is the request's fault and answers 400.

    Connections are health-checked on reuse (CONN_HEALTH_CHECKS), so the first request after
    the database is back reconnects: no restart needed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DataError):
            # Caused by the request's data, not an outage: a retry would fail the same way.
            logger.warning("the database refused a value of a request", exc_info=exception)
            body = {"error": "invalid input", "fields": {"body": [data_error_message(exception)]}}
            return JsonResponse(body, status=400)
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable", exc_info=exception)
        return JsonResponse(
            {"error": "database unavailable; nothing was stored, retry later"},
            status=503,
            headers={"Retry-After": "30"},
        )
