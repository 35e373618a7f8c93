"""Uptime tasks ticked by beat (queue default): due probes, overdue heartbeats, rollups, retention."""

from datetime import UTC, datetime

from celery import shared_task
from django.utils import timezone

from monitoring.services.heartbeats import heartbeats_detect
from monitoring.services.probe_dispatch import probes_dispatch
from monitoring.services.target_rollups import rollups_advance, uptime_prune
from monitoring.tasks.probes import probe_batch_run

# A batch still queued after this long is dropped: its targets are due again by then.
BATCH_EXPIRES_SECONDS = 30


def _send_batch(target_ids: list[int], region: str, due_at: list[float]) -> None:
    # Held by the broker and worker until the first target is due, not by a sleeping task.
    eta = datetime.fromtimestamp(min(due_at), tz=UTC)
    probe_batch_run.apply_async(args=[target_ids, region, due_at], queue=f"probes.{region}",
                                eta=eta if eta > timezone.now() else None,
                                expires=BATCH_EXPIRES_SECONDS)


@shared_task
def dispatch_due_probes() -> int:
    return probes_dispatch(now=timezone.now(), send=_send_batch).claimed


@shared_task
def detect_late_heartbeats() -> int:
    return heartbeats_detect(now=timezone.now())


@shared_task
def roll_up_uptime() -> None:
    rollups_advance(now=timezone.now())


@shared_task
def prune_uptime() -> None:
    uptime_prune(now=timezone.now())
