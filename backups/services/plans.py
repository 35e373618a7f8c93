"""Plan schedules and the dispatcher that claims due plans onto the `backups` queue.

As with probes (monitoring/uptime/services/dispatch.py) the due time is stored
(`next_run_at`, `next_verify_at`); a tick claims due plans with SELECT … FOR UPDATE SKIP
LOCKED, moves their due time to the next cron time and sends the task inside the claiming
transaction: if the broker refuses, the claim rolls back and the next tick tries again.
Several beats or a restart never start a plan twice for one slot.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from backups.models import Plan
from backups.schedule import next_time

CLAIM_LIMIT = 100


def plan_schedule(*, plan: Plan, now: datetime) -> Plan:
    """Set the plan's next backup and verification times from its cron (after saving an edit)."""
    plan.next_run_at = next_time(plan.cron, plan.time_zone, after=now)
    plan.next_verify_at = next_time(plan.verify_cron, plan.time_zone, after=now)
    Plan.objects.filter(pk=plan.pk).update(next_run_at=plan.next_run_at, next_verify_at=plan.next_verify_at)
    return plan


@dataclass(frozen=True)
class Dispatched:
    backups: int
    verifications: int


def plans_dispatch(
    *, now: datetime, send_backup: Callable[[int], None], send_verify: Callable[[int], None]
) -> Dispatched:
    # Plans never scheduled (made by a data import, say) get their times, not a run now.
    for plan in Plan.objects.filter(Q(next_run_at=None) | Q(next_verify_at=None)):
        plan_schedule(plan=plan, now=now)
    backups = verifications = 0
    with transaction.atomic():
        for plan in Plan.objects.select_for_update(skip_locked=True).filter(enabled=True, next_run_at__lte=now)[
            :CLAIM_LIMIT
        ]:
            Plan.objects.filter(pk=plan.pk).update(next_run_at=next_time(plan.cron, plan.time_zone, after=now))
            send_backup(plan.pk)
            backups += 1
    with transaction.atomic():
        for plan in Plan.objects.select_for_update(skip_locked=True).filter(enabled=True, next_verify_at__lte=now)[
            :CLAIM_LIMIT
        ]:
            Plan.objects.filter(pk=plan.pk).update(
                next_verify_at=next_time(plan.verify_cron, plan.time_zone, after=now)
            )
            send_verify(plan.pk)
            verifications += 1
    return Dispatched(backups=backups, verifications=verifications)
