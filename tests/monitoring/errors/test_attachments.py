"""Attachments sent with an event are kept (text scrubbed), listed for its page and
downloadable by people who may see events; feedback from the SDK's feedback API shows on
the issue."""

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from monitoring.errors.attachment_selectors import event_attachments, issue_feedback
from monitoring.errors.services.attachments import MAX_ATTACHMENT_BYTES
from monitoring.errors.services.events import error_events_retention_apply
from monitoring.models import EnvelopeOutcome, ErrorAttachment, ErrorEvent, ErrorIssue
from tests.factories import UserFactory
from tests.monitoring.errors.test_ingest_endpoint import auth, envelope, event, post

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n\x00\x00binary"


def attachment(data: bytes, filename: str, content_type: str) -> bytes:
    header = {"type": "attachment", "length": len(data), "filename": filename, "content_type": content_type}
    return json.dumps(header).encode() + b"\n" + data + b"\n"


def event_item(sent: dict) -> bytes:
    body = json.dumps(sent).encode()
    return json.dumps({"type": "event", "length": len(body)}).encode() + b"\n" + body + b"\n"


def send_with_attachments(client, key, *attachments: bytes, sent=None) -> dict:
    sent = sent or event("checkout failed")
    body = envelope(event_item(sent), *attachments, header={"event_id": sent["event_id"]})
    assert post(client, f"/api/{key.project_id}/envelope/", body, headers=auth(key)).status_code == 200
    return sent


def test_attachments_are_kept_with_their_event_and_text_is_scrubbed(client, ingest_key):
    log = b"GET /cart 500\npassword=hunter2\n"
    send_with_attachments(
        client, ingest_key, attachment(log, "app.log", "text/plain"), attachment(PNG, "screen.png", "image/png")
    )
    stored = ErrorEvent.objects.get()
    links = event_attachments(stored)
    assert [(a.name, a.content_type, a.size) for a in links] == [
        ("app.log", "text/plain", links[0].size),
        ("screen.png", "image/png", len(PNG)),
    ]
    kept = ErrorAttachment.objects.get(name="app.log")
    assert b"hunter2" not in bytes(kept.data) and b"GET /cart 500" in bytes(kept.data)
    assert bytes(ErrorAttachment.objects.get(name="screen.png").data) == PNG


def test_an_attachment_is_downloaded_by_people_who_may_see_events(client, ingest_key):
    send_with_attachments(client, ingest_key, attachment(PNG, 'scr"een.png', "image/png"))
    url = event_attachments(ErrorEvent.objects.get())[0].url
    assert client.get(url).status_code == 302  # to the login page
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_errorevent"))
    response = client.get(url)
    assert response.status_code == 200 and response.content == PNG
    assert response["Content-Disposition"] == 'attachment; filename="screen.png"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(url.replace(url.split("/")[-3], "999999")).status_code == 404


def test_attachments_without_an_event_or_too_large_are_dropped_and_counted(client, ingest_key):
    loose = envelope(attachment(b"orphan", "a.txt", "text/plain"))
    assert post(client, f"/api/{ingest_key.project_id}/envelope/", loose, headers=auth(ingest_key)).status_code == 200
    huge = b"x" * (MAX_ATTACHMENT_BYTES + 1)
    send_with_attachments(client, ingest_key, attachment(huge, "dump.bin", "application/octet-stream"))
    assert not ErrorAttachment.objects.exists()
    counted = {(o.category, o.reason): o.quantity for o in EnvelopeOutcome.objects.all()}
    assert counted == {("attachment", "invalid"): 1, ("attachment", "too_large"): 1}


def test_retention_drops_old_attachments(client, ingest_key, settings):
    send_with_attachments(client, ingest_key, attachment(PNG, "screen.png", "image/png"))
    ErrorAttachment.objects.update(received_at=timezone.now() - timedelta(days=settings.ERRORS_RETENTION_DAYS + 1))
    error_events_retention_apply()
    assert not ErrorAttachment.objects.exists()


def test_feedback_from_the_feedback_api_shows_on_its_issue(client, ingest_key):
    sent = send_with_attachments(client, ingest_key)
    feedback = {
        "event_id": uuid.uuid4().hex,
        "type": "feedback",
        "contexts": {
            "feedback": {
                "message": "The cart emptied itself",
                "contact_email": "ann@example.com",
                "name": "Ann",
                "associated_event_id": sent["event_id"],
            }
        },
    }
    body = json.dumps(feedback).encode()
    item = json.dumps({"type": "feedback", "length": len(body)}).encode() + b"\n" + body + b"\n"
    screenshot = attachment(PNG, "screenshot.png", "image/png")
    wrapped = envelope(item, screenshot, header={"event_id": feedback["event_id"]})
    assert post(client, f"/api/{ingest_key.project_id}/envelope/", wrapped, headers=auth(ingest_key)).status_code == 200
    issue = ErrorIssue.objects.get()
    assert [(f.name, f.comments) for f in issue_feedback(issue)] == [("Ann", "The cart emptied itself")]
    # The feedback's screenshot is kept under the feedback's own id.
    assert ErrorAttachment.objects.get().event_id == uuid.UUID(feedback["event_id"])
