"""Reads about backups: the facts the alert engine and the dashboard use.

`alerts` reads backups only through these functions (and the models), so their names and
fields are an interface: add fields, never rename or remove one.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.conf import settings
from django.db.models import F, Q, QuerySet

from backups.models import Plan, Run, Status, Verification
from backups.schedule import previous_time

MEDIAN_WINDOW = 7


@dataclass(frozen=True)
class PlanFacts:
    plan_id: int
    plan_name: str
    # No success since the plan's latest scheduled time that is older than the grace.
    overdue: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_error: str
    newest_success_run_id: int | None
    newest_success_bytes: int | None
    # Median stored bytes of the (up to) seven successful runs before the newest, of the same kind.
    median_bytes_last7: int | None
    newest_success_verified_at: datetime | None
    last_verification_failed_at: datetime | None
    last_verification_error: str
    enabled: bool = True
    # The latest scheduled time a success was due by (None for a plan that was not due yet).
    due_since: datetime | None = None
    last_failure_kind: str = ""
    last_verification_failure_kind: str = ""
    # When the newest success that a verification passed finished: how old the newest proven
    # restore point is. The newest success alone says nothing once backups outpace verification.
    newest_verified_success_at: datetime | None = None
    first_success_at: datetime | None = None


@dataclass(frozen=True)
class BackupFreshness:
    plans: int
    newest_success_at: datetime | None
    newest_verified_at: datetime | None
    failing_plans: list[str]
    overdue_plans: list[str]
    unverified_plans: list[str]


def overdue_grace() -> timedelta:
    return timedelta(minutes=settings.BACKUPS_OVERDUE_GRACE_MINUTES)


def plan_due_since(plan: Plan, *, now: datetime) -> datetime | None:
    """The latest scheduled time, older than the grace, that a success should follow."""
    due = previous_time(plan.cron, plan.time_zone, at_or_before=now - overdue_grace())
    return due if due >= plan.created_at else None


def plan_facts(now: datetime) -> list[PlanFacts]:
    facts = []
    for plan in Plan.objects.order_by("name"):
        facts.append(_facts(plan, now=now))
    return facts


def _facts(plan: Plan, *, now: datetime) -> PlanFacts:
    runs = Run.objects.filter(plan=plan)
    successes = runs.filter(status=Status.SUCCEEDED).order_by("-finished_at", "-id")
    newest = successes.first()
    failure = runs.filter(status=Status.FAILED).order_by("-finished_at", "-id").first()
    # Sizes compare like with like: a JSON export is no baseline for a dump.
    median_bytes = None
    if newest is not None:
        before = list(
            successes.filter(kind=newest.kind)
            .exclude(pk=newest.pk)
            .values_list("stored_bytes", flat=True)[:MEDIAN_WINDOW]
        )
        median_bytes = int(median(before)) if before else None
    verified = (
        successes.filter(verified_at__isnull=False)
        .filter(Q(verification_failed_at__isnull=True) | Q(verification_failed_at__lte=F("verified_at")))
        .first()
    )
    first = successes.order_by("finished_at", "id").first()
    failed_check = Verification.objects.filter(plan=plan, status=Status.FAILED).order_by("-finished_at", "-id").first()
    due = plan_due_since(plan, now=now) if plan.enabled else None
    last_success_at = newest.finished_at if newest else None
    return PlanFacts(
        plan_id=plan.pk,
        plan_name=plan.name,
        overdue=due is not None and (last_success_at is None or last_success_at < due),
        last_success_at=last_success_at,
        last_failure_at=failure.finished_at if failure else None,
        last_failure_error=failure.error if failure else "",
        newest_success_run_id=newest.pk if newest else None,
        newest_success_bytes=newest.stored_bytes if newest else None,
        median_bytes_last7=median_bytes,
        newest_success_verified_at=newest.verified_at if newest and newest.is_verified else None,
        last_verification_failed_at=failed_check.finished_at if failed_check else None,
        last_verification_error=failed_check.error if failed_check else "",
        enabled=plan.enabled,
        due_since=due,
        last_failure_kind=failure.failure_kind if failure else "",
        last_verification_failure_kind=failed_check.failure_kind if failed_check else "",
        newest_verified_success_at=verified.finished_at if verified else None,
        first_success_at=first.finished_at if first else None,
    )


def freshness(now: datetime) -> BackupFreshness:
    facts = plan_facts(now)
    successes = [f.last_success_at for f in facts if f.last_success_at]
    verified = [f.newest_success_verified_at for f in facts if f.newest_success_verified_at]
    return BackupFreshness(
        plans=len(facts),
        newest_success_at=max(successes, default=None),
        newest_verified_at=max(verified, default=None),
        # Failing: the newest outcome is a failure (a later success clears it).
        failing_plans=[
            f.plan_name
            for f in facts
            if f.last_failure_at and (f.last_success_at is None or f.last_failure_at > f.last_success_at)
        ],
        overdue_plans=[f.plan_name for f in facts if f.overdue],
        unverified_plans=[f.plan_name for f in facts if f.newest_success_run_id and not f.newest_success_verified_at],
    )


# --- reads used by the admin, commands and services -------------------------------------
def runs_successful(plan: Plan) -> QuerySet[Run]:
    return Run.objects.filter(plan=plan, status=Status.SUCCEEDED).order_by("-finished_at", "-id")


def run_newest_success(plan: Plan, *, kind: str | None = None) -> Run | None:
    runs = runs_successful(plan)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.first()


def run_newest_verified(plan: Plan) -> Run | None:
    """The newest successful run whose newest verification passed (retention keeps it)."""
    for run in runs_successful(plan).exclude(verified_at=None)[:50]:
        if run.is_verified:
            return run
    return None


def runs_for_chart(plan: Plan, *, limit: int) -> list[Run]:
    """The plan's newest successful runs, oldest first, for its size and duration chart."""
    runs = list(runs_successful(plan).only("kind", "finished_at", "stored_bytes", "duration_seconds")[:limit])
    return runs[::-1]
