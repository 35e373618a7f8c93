"""A value the database refuses is the request's fault (400); a lost database is an outage (503)."""

import json

from django.db import DataError, OperationalError
from django.test import RequestFactory

from monitoring.common.middleware import DatabaseUnavailableMiddleware


def answer(exception):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    return middleware.process_exception(RequestFactory().post("/ping/x"), exception)


def test_a_data_error_outside_the_api_is_a_400_saying_why():
    response = answer(DataError('invalid byte sequence for encoding "UTF8": 0x00\nCONTEXT: x'))

    assert response.status_code == 400
    assert not response.has_header("Retry-After")
    (message,) = json.loads(response.content)["fields"]["body"]
    assert message.endswith('invalid byte sequence for encoding "UTF8": 0x00')


def test_a_lost_database_is_still_a_503_with_retry_after():
    response = answer(OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Retry-After"]
