"""What the admin reads about heartbeats."""

from datetime import datetime

from monitoring.models import Heartbeat


def heartbeats_late(*, now: datetime, limit: int = 10) -> list[Heartbeat]:
    """Heartbeats whose expected ping has not come, most overdue first, with their target
    and project joined (one query)."""
    return list(
        Heartbeat.objects.filter(expected_at__lt=now, target__paused=False)
        .select_related("target", "target__project")
        .order_by("expected_at")[:limit]
    )
