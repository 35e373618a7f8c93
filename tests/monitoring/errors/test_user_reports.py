"""User reports (user_report items and feedback events) attached to their error's issue."""

import json
import uuid

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from monitoring.common.scrubbing import FILTERED
from monitoring.errors.tasks import fold_error_issues
from monitoring.models import EnvelopeOutcome, ErrorIssue, ErrorUserReport


def post_items(client, key, *items):
    body = b"{}\n" + b"".join(
        json.dumps({"type": t}).encode() + b"\n" + json.dumps(p).encode() + b"\n" for t, p in items
    )
    response = client.generic(
        "POST",
        f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200
    return response


@pytest.mark.django_db(transaction=True)
def test_a_user_report_sent_by_the_sdk_lands_on_the_issue(sdk):
    try:
        raise RuntimeError("checkout crashed")
    except RuntimeError:
        event_id = sentry_sdk.capture_exception()
    sdk.flush(timeout=10)
    report = {
        "event_id": event_id,
        "name": "Ada",
        "email": "ada@example.com",
        "comments": "It broke when I paid; my token is Bearer abcdefghijk123",
    }
    sdk.transport.capture_envelope(Envelope(items=[Item(payload=PayloadRef(json=report), type="user_report")]))
    sdk.flush(timeout=10)

    issue = ErrorIssue.objects.get()
    stored = issue.user_reports.get()
    assert (stored.name, stored.email) == ("Ada", "ada@example.com")
    assert stored.comments == f"It broke when I paid; my token is Bearer {FILTERED}"


@pytest.mark.django_db
def test_a_report_sent_before_its_event_is_linked_once_the_event_is_here(client, ingest_key):
    event_id = uuid.uuid4().hex
    post_items(client, ingest_key, ("user_report", {"event_id": event_id, "comments": "blank page"}))
    assert ErrorUserReport.objects.get().issue is None
    post_items(client, ingest_key, ("event", {"event_id": event_id, "message": "render failed"}))
    fold_error_issues()  # the beat tick links waiting reports
    assert ErrorUserReport.objects.get().issue == ErrorIssue.objects.get()


@pytest.mark.django_db
def test_feedback_events_attach_to_their_associated_event(client, ingest_key):
    event_id = uuid.uuid4().hex
    post_items(client, ingest_key, ("event", {"event_id": event_id, "message": "render failed"}))
    feedback = {
        "event_id": uuid.uuid4().hex,
        "type": "feedback",
        "contexts": {
            "feedback": {
                "message": "Button does nothing",
                "contact_email": "bo@example.com",
                "name": "Bo",
                "associated_event_id": event_id,
            }
        },
    }
    post_items(client, ingest_key, ("feedback", feedback))
    report = ErrorIssue.objects.get().user_reports.get()
    assert (report.comments, report.email, report.name) == ("Button does nothing", "bo@example.com", "Bo")


@pytest.mark.django_db
def test_unusable_reports_are_dropped_and_counted_without_failing_the_envelope(client, ingest_key):
    post_items(
        client,
        ingest_key,
        ("user_report", {"event_id": "not-a-uuid", "comments": "x"}),
        ("user_report", {"event_id": uuid.uuid4().hex}),
        ("event", {"message": "kept"}),
    )
    # A feedback makes an event of its own, so it travels in an envelope of its own.
    post_items(client, ingest_key, ("feedback", {"contexts": {}}))
    assert ErrorIssue.objects.get().title == "kept"
    assert not ErrorUserReport.objects.exists()
    counted = {(o.category, o.reason): o.quantity for o in EnvelopeOutcome.objects.all()}
    assert counted == {("user_report", "invalid"): 2, ("feedback", "invalid"): 1}
