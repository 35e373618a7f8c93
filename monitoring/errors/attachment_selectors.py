"""What an event page shows of the files and feedback sent with its event."""

from dataclasses import dataclass

from django.urls import reverse

from monitoring.models import ErrorAttachment, ErrorEvent, ErrorIssue, ErrorUserReport


@dataclass(frozen=True)
class AttachmentLink:
    id: int
    name: str
    content_type: str
    attachment_type: str
    size: int
    url: str  # the download, for people allowed to see the project's events


def event_attachments(event: ErrorEvent) -> list[AttachmentLink]:
    """The event's attachments, without their contents: one small query."""
    rows = (
        ErrorAttachment.objects.filter(project_id=event.project_id, event_id=event.event_id)
        .order_by("id")
        .values_list("id", "name", "content_type", "attachment_type", "size")
    )
    return [
        AttachmentLink(*row, url=reverse("errors-attachment-download", kwargs={"attachment_id": row[0]}))
        for row in rows
    ]


def issue_feedback(issue: ErrorIssue, *, limit: int = 20) -> list[ErrorUserReport]:
    """What people said about the issue's errors (user reports and the feedback widget), newest first."""
    return list(ErrorUserReport.objects.filter(issue=issue).order_by("-received_at")[:limit])
