"""Sentry Crons check-ins feeding heartbeat monitors (through the heartbeat services)."""

from datetime import datetime

from monitoring.heartbeats.checkin_items import CheckIn
from monitoring.heartbeats.services.pings import Ping, heartbeat_ping
from monitoring.models import Heartbeat, HeartbeatPing, Project, Target
from monitoring.uptime.services.config import target_save

PING_KIND = {
    "in_progress": HeartbeatPing.Kind.START,
    "ok": HeartbeatPing.Kind.SUCCESS,
    "error": HeartbeatPing.Kind.FAIL,
}


class UnknownMonitor(LookupError):
    """A check-in for a monitor that does not exist, without a monitor_config to make it."""


def _monitor(project: Project, check_in: CheckIn) -> Heartbeat:
    """The heartbeat named by the slug; made, or brought up to date, from monitor_config."""
    target = (
        Target.objects.filter(
            project=project, kind=Target.Kind.HEARTBEAT, name=check_in.monitor_slug, heartbeat__isnull=False
        )
        .select_related("heartbeat")
        .order_by("pk")
        .first()
    )
    if target is None:
        if check_in.schedule is None:
            raise UnknownMonitor(check_in.monitor_slug)
        target = target_save(
            target=Target(project=project, name=check_in.monitor_slug, kind=Target.Kind.HEARTBEAT),
            heartbeat=check_in.schedule,
        )
        return target.heartbeat
    heartbeat = target.heartbeat
    # Saved only when the SDK's config differs: most check-ins repeat it unchanged.
    if check_in.schedule and any(getattr(heartbeat, k) != v for k, v in check_in.schedule.items()):
        target_save(target=target, heartbeat=check_in.schedule)
        heartbeat.refresh_from_db()
    return heartbeat


def monitor_check_in(*, project: Project, check_in: CheckIn, received_at: datetime) -> None:
    """Record a check-in as a ping. Raises UnknownMonitor, or TargetConfigError for a bad monitor_config."""
    heartbeat = _monitor(project, check_in)
    heartbeat_ping(
        ping_key=heartbeat.ping_key,
        ping=Ping(
            kind=PING_KIND[check_in.status],
            at=received_at,
            rid=check_in.check_in_id,
            method="POST",
            user_agent="sentry check-in",
            duration=check_in.duration,
        ),
    )
