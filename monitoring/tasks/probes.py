"""The probe worker's task (queue probes.<region>): probe a batch concurrently, store it once."""

import asyncio

from celery import shared_task
from django.conf import settings

from monitoring.models import Target
from monitoring.probes.runner import probe_batch
from monitoring.services.probe_results import probe_results_record

# A batch runs its probes side by side, so it lasts about as long as its slowest timeout
# (at most 60 s) plus the write; the limits leave room for that.
@shared_task(soft_time_limit=100, time_limit=120)
def probe_batch_run(target_ids: list[int], region: str, due_at: list[float] | None = None) -> int:
    targets = list(Target.objects.filter(pk__in=target_ids, paused=False).exclude(kind=Target.Kind.HEARTBEAT))
    due = dict(zip(target_ids, due_at)) if due_at else {}
    probed = asyncio.run(probe_batch(targets, concurrency=settings.PROBE_CONCURRENCY, due=due))
    probe_results_record(region=region, probed=probed)
    return len(probed)
