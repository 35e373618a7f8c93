"""Storing events the way ingest does, for tests that start past the HTTP layer."""

import uuid
from datetime import datetime

from django.utils import timezone

from monitoring.errors.events import event_prepare
from monitoring.errors.services.events import error_event_store
from monitoring.models import ErrorIssue, Project


def store_event(project: Project, *, received_at: datetime | None = None, **fields) -> ErrorIssue | None:
    """Store an event (a message event unless `fields` say otherwise); its issue, or None if a duplicate."""
    received_at = received_at or timezone.now()
    event = {"event_id": uuid.uuid4().hex, "message": "Something broke", "timestamp": received_at.timestamp(), **fields}
    issue_id = error_event_store(
        project=project, event=event_prepare(event, received_at=received_at), received_at=received_at
    )
    return ErrorIssue.objects.get(pk=issue_id) if issue_id else None
