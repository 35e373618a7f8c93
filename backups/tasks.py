"""Backup tasks: thin, idempotent, with stable names (beat stores them), on the `backups` queue.

The time limits are sized for dumps of hours; a soft limit ends the run as failed (the
pipeline aborts the upload), the hard limit kills the worker process and the reaper fails
the run on the next tick.
"""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from backups.models import Plan, Trigger
from backups.services.plans import plans_dispatch
from backups.services.retention import retention_apply
from backups.services.runs import RunInProgress, plan_backup, runs_reap
from backups.services.verification import plan_verify_newest, portal_drill

LONG = {"soft_time_limit": settings.BACKUPS_TASK_SOFT_TIME_LIMIT, "time_limit": settings.BACKUPS_TASK_TIME_LIMIT}


@shared_task(name="backups.dispatch_due")
def dispatch_due() -> int:
    now = timezone.now()
    runs_reap(now=now)
    dispatched = plans_dispatch(
        now=now,
        send_backup=lambda plan_id: run_plan.apply_async(args=[plan_id], queue="backups"),
        send_verify=lambda plan_id: verify_newest.apply_async(args=[plan_id], queue="backups"),
    )
    return dispatched.backups + dispatched.verifications


@shared_task(name="backups.run_plan", **LONG)
def run_plan(plan_id: int, kind: str | None = None, trigger: str = Trigger.SCHEDULE) -> None:
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return  # deleted since it was claimed
    try:
        plan_backup(plan=plan, kind=kind, trigger=trigger)
    except RunInProgress:
        pass  # a redelivered task whose run is still going: the running one is the backup


@shared_task(name="backups.verify_newest", **LONG)
def verify_newest(plan_id: int) -> None:
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is not None:
        plan_verify_newest(plan=plan)


@shared_task(name="backups.drill", **LONG)
def drill() -> None:
    portal_drill()


@shared_task(name="backups.retention")
def retention() -> None:
    retention_apply(now=timezone.now())
