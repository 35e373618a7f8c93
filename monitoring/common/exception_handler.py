"""Every API error is JSON that names what was wrong, and never a 500 for bad input."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DataError):
        return _refused_by_database(exc)
    if isinstance(exc, DatabaseError):
        # The request was not stored; the client may try again once the database is back.
        logger.error("database error while handling an API request", exc_info=exc)
        return Response(
            {"error": "database unavailable, nothing was stored; retry later"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30"},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": "invalid input", "fields": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": str(response.data["detail"])}
    return response


def data_error_message(exc: DataError) -> str:
    """The database's reason, its first line (PostgreSQL adds context lines after it)."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the database cannot store a value of this request: {reason}"


def _refused_by_database(exc: DataError) -> Response:
    # A value the database refused (too long for its column, out of range, a NUL): the
    # request is wrong, and sending it again gives the same answer, so 400 and not the
    # 503 that tells a client to retry. Logged: input validation should have caught it.
    logger.warning("the database refused a value of an API request", exc_info=exc)
    return Response(
        {"error": "invalid input", "fields": {"body": [data_error_message(exc)]}},
        status=status.HTTP_400_BAD_REQUEST,
    )


def not_found(request, exception):
    """Django's 404 (no route matched, e.g. /api/v1/targets/0.5): JSON under /api/, as every API
    answer is, and the usual page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"error": f"no such address: {request.path}"}, status=404)
    return page_not_found(request, exception)
