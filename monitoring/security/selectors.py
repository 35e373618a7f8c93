"""Reading security events: how many of a kind came from each address in a window."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from monitoring.security.models import SecurityEvent


@dataclass(frozen=True)
class SecurityEventCount:
    kind: str
    ip_address: str  # "" when the events named no address
    events: int
    last_at: datetime


def security_events_by_address(
    *,
    project_id: int | None,
    kinds: Collection[str],
    since: datetime,
    until: datetime,
    at_least: int = 1,
    portal_only: bool = False,
) -> list[SecurityEventCount]:
    """Per kind and address, the events in [since, until) when at least `at_least`, in one query.
    `project_id` None reads every project's and the portal's own; `portal_only` the portal's only."""
    events = SecurityEvent.objects.filter(at__gte=since, at__lt=until, kind__in=list(kinds))
    if portal_only:
        events = events.filter(project=None)
    elif project_id is not None:
        events = events.filter(project_id=project_id)
    rows = (
        events.order_by()
        .values("kind", "ip_address")
        .annotate(events=Count("id"), last_at=Max("at"))
        .filter(events__gte=at_least)
        .order_by("kind", "ip_address")
    )
    return [
        SecurityEventCount(
            kind=row["kind"],
            ip_address=row["ip_address"] or "",
            events=row["events"],
            last_at=row["last_at"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SecuritySummary:
    by_kind: list[tuple[str, int]]  # (kind's words, events), most first
    top_addresses: list[tuple[str, int]]
    top_endpoints: list[tuple[str, int]]


def security_event_summary(*, since: datetime, top: int = 10) -> SecuritySummary:
    """What the security page heads its list with: counts by kind, the busiest addresses and endpoints."""
    recent = SecurityEvent.objects.filter(at__gte=since).order_by()
    words = dict(SecurityEvent.Kind.choices)

    def counted(column: str, limit: int | None) -> list[tuple[str, int]]:
        rows = recent.exclude(**{f"{column}__isnull": True}).values(column).annotate(n=Count("id")).order_by("-n")
        rows = rows.exclude(**{column: ""}) if column == "endpoint" else rows
        return [(str(row[column]), row["n"]) for row in (rows[:limit] if limit else rows)]

    return SecuritySummary(
        by_kind=[(words.get(kind, kind), n) for kind, n in counted("kind", None)],
        top_addresses=counted("ip_address", top),
        top_endpoints=counted("endpoint", top),
    )
