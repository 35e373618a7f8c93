"""Uptime tasks. The probe task runs on the probe workers (queue probes.<region>); the rest are
beat's ticks (queue default): due probes, rollups, retention. Names are stable, not module paths,
so a module can move without stranding beat's stored entries."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring.uptime.models import Target
from monitoring.uptime.probes.runner import probe_batch
from monitoring.uptime.services.dispatch import probes_dispatch
from monitoring.uptime.services.results import probe_results_record
from monitoring.uptime.services.rollups import rollups_advance, uptime_prune

# A batch still queued after this long is dropped: its targets are due again by then.
BATCH_EXPIRES_SECONDS = 30


# A batch runs its probes side by side, so it lasts about as long as its slowest timeout
# (at most 60 s) plus the write; the limits leave room for that.
@shared_task(name="uptime.probe_batch", soft_time_limit=100, time_limit=120)
def probe_batch_run(target_ids: list[int], region: str, due_at: list[float] | None = None) -> int:
    targets = list(Target.objects.filter(pk__in=target_ids, paused=False).exclude(kind=Target.Kind.HEARTBEAT))
    due = dict(zip(target_ids, due_at, strict=True)) if due_at else {}
    probed = asyncio.run(probe_batch(targets, concurrency=settings.PROBE_CONCURRENCY, due=due))
    probe_results_record(region=region, probed=probed)
    return len(probed)


def _send_batch(target_ids: list[int], region: str, due_at: list[float]) -> None:
    # Held by the broker and worker until the first target is due, not by a sleeping task.
    eta = datetime.fromtimestamp(min(due_at), tz=UTC)
    timing: dict[str, Any] = {"eta": eta} if eta > timezone.now() else {}
    probe_batch_run.apply_async(
        args=(target_ids, region, due_at), queue=f"probes.{region}", expires=BATCH_EXPIRES_SECONDS, **timing
    )


@shared_task(name="uptime.dispatch_due_probes")
def dispatch_due_probes() -> int:
    return probes_dispatch(now=timezone.now(), send=_send_batch).claimed


@shared_task(name="uptime.roll_up")
def roll_up_uptime() -> None:
    rollups_advance(now=timezone.now())


@shared_task(name="uptime.prune")
def prune_uptime() -> None:
    uptime_prune(now=timezone.now())
