"""Retention: by age, optionally grandfather-father-son, and orphans.

A run is deleted (its object, then its row) when it finished longer ago than the plan's
retention_days, unless something keeps it:
- the plan's newest verified backup: the one restore known to work is never deleted;
- the newest successful backup of each kind, so a plan that failed for a month still has
  its last good copy;
- GFS: the newest backup of each of the last keep_daily days, keep_weekly ISO weeks and
  keep_monthly months (in the plan's time zone), per kind.
Failed runs have no object and go by age alone. Objects under the plan's folder that no
run names (a run deleted by hand, a crash between upload and commit) are orphans and go
too; a running run's partial object is left to its run.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from backups.errors import BackupError
from backups.models import Kind, Plan, Run, Status
from backups.selectors import run_newest_verified
from backups.storage import storage_for
from backups.storage.base import PARTIAL_SUFFIX, Storage

logger = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    runs: list[str] = field(default_factory=list)  # what was (or would be) deleted, as people read it
    orphans: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _newest_per(runs: Iterable[Run], bucket: Callable[[Run], object], count: int) -> set[int]:
    kept: set[int] = set()
    seen: set[object] = set()
    for run in runs:  # newest first
        key = bucket(run)
        if key in seen:
            continue
        if len(seen) >= count:
            break
        seen.add(key)
        kept.add(run.pk)
    return kept


def retention_keep(plan: Plan, successes: list[Run]) -> set[int]:
    """Ids the policy keeps whatever their age (successes given newest first)."""
    keep: set[int] = set()
    verified = run_newest_verified(plan)
    if verified is not None:
        keep.add(verified.pk)
    zone = ZoneInfo(plan.time_zone)
    for kind in Kind.values:
        of_kind = [r for r in successes if r.kind == kind]
        if of_kind:
            keep.add(of_kind[0].pk)

        def local(run: Run) -> datetime:
            return (run.finished_at or run.started_at).astimezone(zone)

        if plan.keep_daily:
            keep |= _newest_per(of_kind, lambda r: local(r).date(), plan.keep_daily)
        if plan.keep_weekly:
            keep |= _newest_per(of_kind, lambda r: local(r).isocalendar()[:2], plan.keep_weekly)
        if plan.keep_monthly:
            keep |= _newest_per(of_kind, lambda r: (local(r).year, local(r).month), plan.keep_monthly)
    return keep


def retention_select(plan: Plan, *, now: datetime) -> list[Run]:
    """The runs of `plan` that retention deletes now, oldest first."""
    cutoff = now - plan.retention()
    runs = list(Run.objects.filter(plan=plan).exclude(status=Status.RUNNING).order_by("-finished_at", "-id"))
    keep = retention_keep(plan, [r for r in runs if r.status == Status.SUCCEEDED])
    doomed = [r for r in runs if (r.finished_at or r.started_at) < cutoff and r.pk not in keep]
    return doomed[::-1]


def orphans_find(plan: Plan) -> list[str]:
    with storage_for(plan) as storage:
        return _orphans_in(plan, storage)


def _orphans_in(plan: Plan, storage: Storage) -> list[str]:
    known = set(Run.objects.filter(plan=plan).exclude(storage_key="").values_list("storage_key", "status"))
    finished = {key for key, status in known if status != Status.RUNNING}
    running = {key for key, status in known if status == Status.RUNNING}
    orphans = []
    for obj in storage.list():
        base = obj.key.removesuffix(PARTIAL_SUFFIX)
        if obj.key in finished or base in running:
            continue
        orphans.append(obj.key)
    return orphans


def retention_apply(*, now: datetime, dry_run: bool = False, plans: Iterable[Plan] | None = None) -> RetentionReport:
    report = RetentionReport()
    for plan in plans if plans is not None else Plan.objects.all():
        doomed = retention_select(plan, now=now)
        try:
            orphans = orphans_find(plan)
        except BackupError as exc:
            report.errors.append(f"{plan.name}: {exc}")
            orphans = []
        report.runs += [
            f"{plan.name}: run {r.pk} ({r.kind}, {r.status}, {r.started_at:%Y-%m-%d %H:%M})" for r in doomed
        ]
        report.orphans += [f"{plan.name}: {key}" for key in orphans]
        if dry_run:
            continue
        _delete(plan, doomed, orphans, report)
    return report


def _delete(plan: Plan, doomed: list[Run], orphans: list[str], report: RetentionReport) -> None:
    storages: dict[str, Storage] = {}  # one client per storage kind, not one per run
    try:
        _delete_with(plan, doomed, orphans, report, storages)
    finally:
        for storage in storages.values():
            storage.close()


def _delete_with(
    plan: Plan, doomed: list[Run], orphans: list[str], report: RetentionReport, storages: dict[str, Storage]
) -> None:
    deleted: list[int] = []
    for run in doomed:
        if run.storage_key and run.status == Status.SUCCEEDED:
            storage = storages.get(run.storage) or storages.setdefault(run.storage, storage_for(plan, run.storage))
            try:
                storage.delete(run.storage_key)
            except BackupError as exc:
                # The row stays so the next pass tries again; the object would otherwise be an orphan.
                report.errors.append(f"{plan.name}: run {run.pk}: {exc}")
                continue
        deleted.append(run.pk)
    # One statement for the rows: 1,000 expired runs must not be 1,000 round trips.
    Run.objects.filter(pk__in=deleted).delete()
    for key in orphans:
        storage = storages.get(plan.storage) or storages.setdefault(plan.storage, storage_for(plan))
        try:
            storage.delete(key)
        except BackupError as exc:
            report.errors.append(f"{plan.name}: orphan {key}: {exc}")
