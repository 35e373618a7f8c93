import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.exceptions import ValidationError

from config.sentry import before_send
from monitoring.common.scrubbing import FILTERED, scrub


def _hint(exc):
    try:
        raise exc
    except type(exc):
        return {"exc_info": sys.exc_info()}


def test_client_errors_are_not_reported():
    for exc in (Http404("x"), PermissionDenied(), ValidationError({"name": "required"})):
        assert before_send({"message": "x"}, _hint(exc)) is None


def test_server_errors_are_reported_scrubbed():
    event = {
        "request": {
            "headers": {"Authorization": "Bearer abcdefghijkl", "Accept": "text/html"},
            "cookies": {"sessionid": "s3cr3t"},
        },
        "extra": {"password": "hunter2", "note": "card 4111 1111 1111 1111 used", "count": 3},
    }
    sent = before_send(event, _hint(RuntimeError("boom")))
    assert sent["request"]["headers"] == {"Authorization": FILTERED, "Accept": "text/html"}
    assert sent["request"]["cookies"] == FILTERED
    assert sent["extra"]["password"] == FILTERED
    assert sent["extra"]["note"] == f"card {FILTERED} used"
    assert sent["extra"]["count"] == 3


def test_scrub_filters_bearer_tokens_in_free_text_and_header_pairs():
    data = {"message": "retry with Bearer eyJhbGciOi.payload.sig", "headers": [["X-Api-Key", "k123"], ["Host", "a"]]}
    assert scrub(data) == {
        "message": f"retry with Bearer {FILTERED}",
        "headers": [["X-Api-Key", FILTERED], ["Host", "a"]],
    }


def test_scrub_keeps_numbers_that_are_not_cards_and_applies_extra_keys():
    assert scrub("order 1234567890123") == "order 1234567890123"  # fails the Luhn sum
    assert scrub({"customer_pin": "1234"}, extra_keys=["pin"]) == {"customer_pin": FILTERED}
