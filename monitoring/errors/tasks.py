from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from monitoring.errors.partitions import events
from monitoring.errors.services.events import error_events_retention_apply
from monitoring.errors.services.issues import error_issues_fold_pending, error_issues_wake_snoozed
from monitoring.errors.services.user_reports import error_user_reports_link


@shared_task(name="errors.fold_issues")
def fold_error_issues() -> int:
    """Beat's tick behind ingest: count tallies no request got to fold, wake snoozes that
    ran out, link user reports that came before their event, and make tomorrow's event
    partition before the first event needs it."""
    events.ensure([timezone.now().date() + timedelta(days=1)])
    error_issues_wake_snoozed()
    error_user_reports_link()
    return error_issues_fold_pending()


@shared_task(name="errors.apply_retention")
def apply_error_retention() -> int:
    return error_events_retention_apply()
