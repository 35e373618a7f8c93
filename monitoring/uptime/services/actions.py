"""Operator actions on targets: pause, resume, check now. Each records its flip."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from monitoring.models import Heartbeat, Status, Target
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.services.flips import flips_record, target_flip


@transaction.atomic
def targets_pause(*, target_ids: Iterable[int], at: datetime, by: str = "") -> int:
    """Stop probing (or expecting pings from) these targets; returns how many were paused."""
    targets = list(
        Target.objects.select_for_update().filter(pk__in=list(target_ids), paused=False).only("pk", "status")
    )
    reason = f"paused by {by}" if by else "paused"
    flips_record(
        flips=[target_flip(target=t, to=Status.PAUSED, at=at, cause=FlipCause.PAUSED, reason=reason) for t in targets]
    )
    Target.objects.filter(pk__in=[t.pk for t in targets]).update(
        paused=True, status=Status.PAUSED, status_changed_at=at
    )
    Heartbeat.objects.filter(target_id__in=[t.pk for t in targets]).update(alert_after=None)
    return len(targets)


@transaction.atomic
def targets_resume(*, target_ids: Iterable[int], at: datetime, by: str = "") -> int:
    """Resume from a clean slate: status unknown until the next probe (or ping) says otherwise."""
    targets = list(Target.objects.select_for_update().filter(pk__in=list(target_ids), paused=True).only("pk", "status"))
    reason = f"resumed by {by}" if by else "resumed"
    flips_record(
        flips=[target_flip(target=t, to=Status.UNKNOWN, at=at, cause=FlipCause.RESUMED, reason=reason) for t in targets]
    )
    Target.objects.filter(pk__in=[t.pk for t in targets]).update(
        paused=False, status=Status.UNKNOWN, status_changed_at=at, next_run_at=at, region_states={}
    )
    return len(targets)


def targets_check_now(*, target_ids: Iterable[int], at: datetime) -> int:
    """Make probed targets due now; the next dispatcher tick (seconds away) picks them up."""
    return (
        Target.objects.filter(pk__in=list(target_ids), paused=False)
        .exclude(kind=Target.Kind.HEARTBEAT)
        .update(next_run_at=at)
    )
