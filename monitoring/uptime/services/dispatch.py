"""Claim due targets and hand them to the probe workers of each region, in batches."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from monitoring.models import Target

# A batch covers at most this much of a tick's due times: it is held back (eta) until its
# first target is due, so its task waits only within this span and never holds a worker
# slot asleep for a whole tick.
BATCH_SPAN = timedelta(seconds=1)
# Claimed per transaction; a tick keeps claiming until nothing is due or MAX_PER_TICK.
CLAIM_CHUNK = 5000
MAX_PER_TICK = 50_000


@dataclass
class Dispatched:
    claimed: int = 0
    batches: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Claimed:
    target_id: int
    regions: list[str]
    due_at: datetime


def targets_claim_due(*, now: datetime, limit: int, lookahead: timedelta = timedelta(0)) -> list[Claimed]:
    """Claim up to `limit` targets due by `now + lookahead` and advance their `next_run_at`.

    The lookahead is the dispatcher's tick: a target due between two ticks is claimed on
    the first and probed at its own due time by the worker (each claim carries `due_at`),
    so a probe is never late by up to a whole tick.

    On PostgreSQL, rows another dispatcher holds are skipped (SKIP LOCKED), so several
    dispatchers never claim the same target. SQLite has no row locks; there the atomic
    block's BEGIN IMMEDIATE takes the database's write lock before the read, which gives
    the same guarantee. Call inside the transaction that also enqueues the batches.
    """
    due = (
        Target.objects.filter(paused=False, next_run_at__lte=now + lookahead)
        .exclude(kind=Target.Kind.HEARTBEAT)
        .order_by("next_run_at")
        .values_list("pk", "next_run_at", "interval_seconds", "regions")[:limit]
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    rows = list(due)
    # One UPDATE per interval (targets share a handful), not one per row: on cadence the
    # next run is due + interval. A late target is probed now; if its next slot would then
    # come less than half an interval later (it is more than half an interval behind), it
    # starts again from now instead, or the next tick would probe it twice in quick succession.
    on_cadence: defaultdict[int, list[int]] = defaultdict(list)
    behind: defaultdict[int, list[int]] = defaultdict(list)
    for pk, next_run_at, interval_seconds, _ in rows:
        following = next_run_at + timedelta(seconds=interval_seconds)
        probed_at = max(next_run_at, now)
        kept = following - probed_at >= timedelta(seconds=interval_seconds / 2)
        (on_cadence if kept else behind)[interval_seconds].append(pk)
    for interval_seconds, ids in on_cadence.items():
        Target.objects.filter(pk__in=ids).update(next_run_at=F("next_run_at") + timedelta(seconds=interval_seconds))
    for interval_seconds, ids in behind.items():
        Target.objects.filter(pk__in=ids).update(next_run_at=now + timedelta(seconds=interval_seconds))
    return [Claimed(pk, regions, next_run_at) for pk, next_run_at, _, regions in rows]


def probes_dispatch(*, now: datetime, send: Callable[[list[int], str, list[float]], None]) -> Dispatched:
    """Claim everything due by the next tick and call `send(target_ids, region, due_at)` per
    batch and region, `due_at` the targets' due times as Unix timestamps.

    The sends happen inside the claiming transaction: if the broker refuses one, the claim
    is rolled back and the next tick tries again, so a target is never silently skipped.
    """
    result = Dispatched()
    lookahead = timedelta(seconds=settings.PROBE_DISPATCH_LOOKAHEAD_SECONDS)
    while result.claimed < MAX_PER_TICK:
        with transaction.atomic():
            claimed = targets_claim_due(
                now=now, limit=min(CLAIM_CHUNK, MAX_PER_TICK - result.claimed), lookahead=lookahead
            )
            by_region: dict[str, list[Claimed]] = defaultdict(list)
            for target in claimed:
                for region in target.regions:
                    by_region[region].append(target)
            for region, targets in by_region.items():
                for batch in _batches(targets):
                    send([t.target_id for t in batch], region, [t.due_at.timestamp() for t in batch])
                    result.batches[region] += 1
        result.claimed += len(claimed)
        if len(claimed) < CLAIM_CHUNK:
            break
    return result


def _batches(targets: list[Claimed]) -> list[list[Claimed]]:
    """Split targets (claimed in order of due time) by PROBE_BATCH_SIZE and BATCH_SPAN."""
    batches: list[list[Claimed]] = []
    for target in targets:
        if (
            not batches
            or len(batches[-1]) >= settings.PROBE_BATCH_SIZE
            or target.due_at - batches[-1][0].due_at >= BATCH_SPAN
        ):
            batches.append([])
        batches[-1].append(target)
    return batches
