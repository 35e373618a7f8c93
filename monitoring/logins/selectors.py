"""Which accounts are locked out now, whichever addresses their failures came from."""

from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum


def accounts_locked(*, now: datetime) -> QuerySet[AccessAttempt, str]:
    """Usernames whose failures within the cool-off, summed over every address, reach the limit.

    Axes keeps one row per account, address and user agent, so its own "locked out" filter
    (one row at the limit) misses an account guessed at from many addresses.
    """
    return (
        AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME, username__isnull=False)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )


def account_failures(*, now: datetime) -> Subquery:
    """For annotating attempt rows: their account's failures within the cool-off, over every address."""
    return Subquery(
        AccessAttempt.objects.filter(username=OuterRef("username"), attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")[:1],
        output_field=IntegerField(),
    )
