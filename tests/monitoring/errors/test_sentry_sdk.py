"""The real sentry-sdk, unchanged, sending to a live Lookout over HTTP."""

import logging

import pytest
import sentry_sdk

from monitoring.common.scrubbing import FILTERED
from monitoring.models import ErrorEvent, ErrorIssue

pytestmark = pytest.mark.django_db(transaction=True)


def checkout(order):
    card_number = "4111 1111 1111 1111"  # noqa: F841  a local the SDK sends with the frame
    password = "hunter2"  # noqa: F841
    raise KeyError(f"order {order} has no total")


def test_capture_exception_is_stored_grouped_and_scrubbed(sdk):
    sentry_sdk.set_user({"id": "u-17", "ip_address": "203.0.113.9"})
    sentry_sdk.set_extra("api_key", "sk_live_abcdef")
    for order in (1, 2):
        try:
            checkout(order)
        except KeyError:
            event_id = sentry_sdk.capture_exception()
    sdk.flush(timeout=10)

    issue = ErrorIssue.objects.get()
    assert issue.type == "KeyError"
    assert issue.title == "KeyError: 'order 1 has no total'"
    assert issue.event_count == 2 and issue.users_affected == 1
    assert {(s.dimension, s.value) for s in issue.seen_in.all()} == {
        ("release", "shop@1.4.2"),
        ("environment", "staging"),
    }
    event = ErrorEvent.objects.get(event_id=event_id)
    payload = event.payload
    frame = payload["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["function"] == "checkout"
    assert frame["vars"]["password"] == FILTERED
    assert frame["vars"]["card_number"] == f"'{FILTERED}'"
    assert payload["extra"]["api_key"] == FILTERED
    assert "ip_address" not in payload["user"]
    assert event.release == "shop@1.4.2" and event.environment == "staging"


def test_capture_message_groups_by_its_text(sdk):
    sentry_sdk.capture_message("Disk almost full", level="warning")
    sentry_sdk.capture_message("Disk almost full", level="warning")
    sentry_sdk.capture_message("Queue backed up")
    sdk.flush(timeout=10)

    issues = {i.title: i for i in ErrorIssue.objects.all()}
    assert set(issues) == {"Disk almost full", "Queue backed up"}
    assert issues["Disk almost full"].event_count == 2
    assert issues["Disk almost full"].level == "warning"


def test_logging_messages_group_by_template(sdk):
    from sentry_sdk.integrations.logging import EventHandler

    logger = logging.getLogger("tests.shop")
    logger.addHandler(handler := EventHandler())
    try:
        for order in ("A-1", "B-2"):
            logger.error("payment for order %s declined", order)
    finally:
        logger.removeHandler(handler)
    sdk.flush(timeout=10)

    issue = ErrorIssue.objects.get()
    assert issue.event_count == 2
    assert issue.title == "payment for order A-1 declined"
