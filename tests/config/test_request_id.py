import json
import logging

import pytest

from monitoring.common.logging import JsonFormatter, RequestIdFilter
from monitoring.common.request_context import request_id_var

URL = "/api/v1/ingest/key"


@pytest.mark.django_db
def test_a_request_gets_a_new_id_echoed_in_the_response(client):
    first, second = client.get(URL), client.get(URL)
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_a_callers_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get(URL, HTTP_X_REQUEST_ID="lb-7f3a.42").headers["X-Request-ID"] == "lb-7f3a.42"
    replaced = client.get(URL, HTTP_X_REQUEST_ID="bad id\r\nSet-Cookie: x=1").headers["X-Request-ID"]
    assert replaced != "bad id" and len(replaced) == 32


def test_json_log_lines_carry_the_request_id_and_extra_fields():
    record = logging.LogRecord("lookout.test", logging.WARNING, __file__, 1, "probe %s failed", ("api",), None)
    record.target_id = 7
    token = request_id_var.set("req-123")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "probe api failed"
    assert line["level"] == "warning"
    assert line["request_id"] == "req-123"
    assert line["target_id"] == 7


def test_enqueuing_a_task_carries_the_request_id_in_its_headers():
    from monitoring.common.task_context import HEADER, _stamp_request_id

    headers = {}
    token = request_id_var.set("req-abc")
    try:
        _stamp_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers[HEADER] == "req-abc"


@pytest.mark.django_db
def test_djangos_own_log_line_for_an_error_response_carries_the_request_id(client):
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no-such-page", HTTP_X_REQUEST_ID="req-404")
    finally:
        logger.removeHandler(handler)
    assert [r.request_id for r in seen] == ["req-404"]
    assert request_id_var.get() == "-"  # cleared once the request finished
