"""Attachments sent with events (envelope `attachment` items), kept by the event's id."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from monitoring.common.scrubbing import scrub_text
from monitoring.errors.events import storable
from monitoring.models import ErrorAttachment, Project

# Sentry's default for one attachment is 100 MB; a portal on one disk keeps less, and an
# envelope is bounded by ERRORS_MAX_ENVELOPE_BYTES anyway.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Text worth scrubbing: logs and JSON a person attaches carry the secrets events do.
TEXT_TYPES = ("text/", "application/json", "application/x-ndjson")


@dataclass(frozen=True)
class AttachmentIn:
    name: str
    content_type: str
    attachment_type: str
    data: bytes


def _scrubbed(attachment: AttachmentIn) -> bytes:
    if not attachment.content_type.startswith(TEXT_TYPES) and not attachment.name.endswith((".txt", ".log", ".json")):
        return attachment.data
    try:
        text = attachment.data.decode("utf-8")
    except UnicodeDecodeError:
        return attachment.data  # not text after all: kept as sent
    return scrub_text(text).encode("utf-8")


def error_attachments_store(
    *, project: Project, event_id: uuid.UUID, attachments: list[AttachmentIn], received_at: datetime
) -> int:
    rows = []
    for attachment in attachments:
        data = _scrubbed(attachment) if project.errors_scrub_data else attachment.data
        rows.append(
            ErrorAttachment(
                project=project,
                event_id=event_id,
                name=storable(attachment.name)[:255] or "attachment",
                content_type=storable(attachment.content_type)[:100],
                attachment_type=storable(attachment.attachment_type)[:64] or "event.attachment",
                size=len(data),
                data=data,
                received_at=received_at,
            )
        )
    ErrorAttachment.objects.bulk_create(rows)
    return len(rows)


def error_attachments_retention_apply(*, before: datetime) -> int:
    return ErrorAttachment.objects.filter(received_at__lt=before).delete()[0]
