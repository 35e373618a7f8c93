"""Recording security events: the one writer of SecurityEvent."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from monitoring.security.models import SecurityEvent

# The columns' sizes: a client's long user agent or URL is cut, not refused.
_LIMITS = {"endpoint": 500, "user_agent": 500, "user": 200}


def security_event_record(*, kind: str, at: datetime, project_id: int | None = None, **fields: Any) -> SecurityEvent:
    """One event; `fields` are the optional ones of _event (ip_address, endpoint, user_agent, user, detail)."""
    event = _event(project_id=project_id, kind=kind, at=at, **fields)
    event.save()
    return event


def security_events_record(*, project_id: int, events: Iterable[dict[str, Any]]) -> int:
    """An application's reported events, checked beforehand, in one statement: all or nothing."""
    now = timezone.now()
    rows = [
        _event(
            project_id=project_id,
            at=event.get("timestamp") or now,
            **{name: value for name, value in event.items() if name != "timestamp"},
        )
        for event in events
    ]
    SecurityEvent.objects.bulk_create(rows)
    return len(rows)


def _event(
    *,
    project_id: int | None,
    kind: str,
    at: datetime,
    ip_address: str | None = None,
    endpoint: str = "",
    user_agent: str = "",
    user: str = "",
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    texts = {"endpoint": endpoint or "", "user_agent": user_agent or "", "user": user or ""}
    return SecurityEvent(
        project_id=project_id,
        kind=kind,
        at=at,
        ip_address=ip_address or None,
        detail=detail or {},
        **{name: value[: _LIMITS[name]] for name, value in texts.items()},
    )


def security_events_retention_apply() -> int:
    """Forget events past SECURITY_EVENTS_RETENTION_DAYS; rules and the security page look
    back minutes to days, and an attacker's flood must not grow the table for ever."""
    cutoff = timezone.now() - timedelta(days=settings.SECURITY_EVENTS_RETENTION_DAYS)
    deleted, _ = SecurityEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
