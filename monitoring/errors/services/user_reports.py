"""User reports: a person's own words about an error, attached to the error's issue."""

import uuid
from datetime import datetime

from django.db.models import OuterRef, Subquery

from monitoring.common.scrubbing import scrub_text
from monitoring.models import ErrorEvent, ErrorUserReport, Project


def error_user_report_store(
    *,
    project: Project,
    event_id: uuid.UUID,
    name: str,
    email: str,
    comments: str,
    received_at: datetime,
) -> ErrorUserReport:
    """Store (or replace: a person may send again) the report on `event_id`, on its issue if
    the event is here already; otherwise error_user_reports_link does once it is."""
    if project.errors_scrub_data:
        comments = scrub_text(comments)
    issue_id = ErrorEvent.objects.filter(project=project, event_id=event_id).values_list("issue_id", flat=True).first()
    report, _ = ErrorUserReport.objects.update_or_create(
        project=project,
        event_id=event_id,
        defaults={
            "issue_id": issue_id,
            "name": name[:128],
            "email": email[:256],
            "comments": comments,
            "received_at": received_at,
        },
    )
    return report


def error_user_reports_link() -> int:
    """Give reports that came before their event the event's issue (a beat tick's job, so
    ingest does not look for waiting reports on every event). Returns reports linked."""
    issue_of_event = ErrorEvent.objects.filter(project_id=OuterRef("project_id"), event_id=OuterRef("event_id")).values(
        "issue_id"
    )[:1]
    found = (
        ErrorUserReport.objects.filter(issue=None)
        .annotate(found=Subquery(issue_of_event))
        .exclude(found=None)
        .values_list("pk", flat=True)
    )
    return ErrorUserReport.objects.filter(pk__in=list(found[:1000])).update(issue_id=Subquery(issue_of_event))
