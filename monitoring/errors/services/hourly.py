"""Events per issue and UTC hour (ErrorIssueHourly), kept so the sparklines never group raw
events. The invariant: an issue's events in an hour = its hourly count + its pending tallies
in that hour. Folding a tally moves it from the one to the other (error_issue_hours_add, in
the fold's transaction, under the issue's lock); anything that moves events between issues
recounts them from the events (error_issue_hours_rebuild)."""

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from monitoring.models import ErrorEvent, ErrorIssueHourly, ErrorIssueTally


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def error_issue_hours_add(*, issue_id: int, timestamps: Iterable[datetime]) -> None:
    """Count folded tallies' events into their hours. The caller holds the issue's lock, so
    nobody else changes these rows meanwhile: read, add, write back."""
    added = Counter(_hour(t) for t in timestamps)
    if not added:
        return
    existing = dict(
        ErrorIssueHourly.objects.filter(issue_id=issue_id, hour__in=list(added)).values_list("hour", "count")
    )
    ErrorIssueHourly.objects.bulk_create(
        [ErrorIssueHourly(issue_id=issue_id, hour=h, count=existing.get(h, 0) + n) for h, n in added.items()],
        update_conflicts=True,
        unique_fields=["issue", "hour"],
        update_fields=["count"],
    )


def error_issue_hours_rebuild(issue_ids: Collection[int] | None = None) -> int:
    """Recount the hours of `issue_ids` (every issue when None) from their events, leaving out
    what their pending tallies will add when they fold. Returns the rows written."""
    only = Q() if issue_ids is None else Q(issue_id__in=list(issue_ids))
    events = ErrorEvent.objects.filter(only)
    tallies = ErrorIssueTally.objects.filter(only)
    hours = ErrorIssueHourly.objects.filter(only)
    counts: Counter[tuple[int, datetime]] = Counter()
    for source, sign in ((events, 1), (tallies, -1)):
        grouped = (
            source.annotate(h=TruncHour("timestamp", tzinfo=UTC)).values("issue_id", "h").annotate(n=Count("*"))
        ).values_list("issue_id", "h", "n")
        for issue_id, hour, n in grouped:
            counts[issue_id, hour.astimezone(UTC)] += sign * n
    hours.delete()
    rows = [ErrorIssueHourly(issue_id=i, hour=h, count=n) for (i, h), n in counts.items() if n > 0]
    ErrorIssueHourly.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)
