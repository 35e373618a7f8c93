"""User reports: a person's own words about an error, attached to the error's issue."""

import uuid
from datetime import datetime

from monitoring.models import ErrorEvent, ErrorUserReport, Project
from monitoring.scrubbing import scrub_text


def error_user_report_store(
    *, project: Project, event_id: uuid.UUID, name: str, email: str, comments: str, received_at: datetime,
) -> ErrorUserReport:
    """Store (or replace: a person may send again) the report on `event_id`, on its issue if
    the event is here already; otherwise the event links it when it arrives."""
    if project.errors_scrub_data:
        comments = scrub_text(comments)
    issue_id = ErrorEvent.objects.filter(project=project, event_id=event_id).values_list("issue_id", flat=True).first()
    report, _ = ErrorUserReport.objects.update_or_create(
        project=project, event_id=event_id,
        defaults={"issue_id": issue_id, "name": name[:128], "email": email[:256], "comments": comments,
                  "received_at": received_at},
    )
    return report
