"""Retention by age and GFS under a frozen clock, orphans, one run deleted on its own."""

from datetime import UTC, datetime, timedelta

import time_machine

from backups.models import Run, Status
from backups.services.retention import retention_apply
from backups.services.runs import run_delete
from backups.storage import storage_for

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _stored_run(plan, *, at, kind="database", status=Status.SUCCEEDED, verified=False):
    run = Run.objects.create(
        plan=plan, kind=kind, format="sqlite", storage=plan.storage, status=status,
        started_at=at, finished_at=at + timedelta(minutes=5), verified_at=at + timedelta(hours=1) if verified else None,
    )  # fmt: skip
    if status == Status.SUCCEEDED:
        run.storage_key = f"{plan.name}/{kind}/{run.pk}.sqlite3.zst.age"
        path = storage_for(plan).root / run.storage_key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"age-encrypted bytes")
        run.save(update_fields=["storage_key"])
    return run


def _daily(plan, days: int, **kwargs):
    return [_stored_run(plan, at=NOW - timedelta(days=d, hours=10), **kwargs) for d in range(days)]


def test_runs_older_than_the_retention_go_with_their_files(make_plan):
    plan = make_plan(retention_days=30)
    runs = _daily(plan, 40)
    with time_machine.travel(NOW, tick=False):
        report = retention_apply(now=NOW)
    kept = set(Run.objects.values_list("pk", flat=True))
    assert kept == {r.pk for r in runs[:30]}
    assert len(report.runs) == 10
    root = storage_for(plan).root
    assert all((root / r.storage_key).exists() for r in runs[:30])
    assert not any((root / r.storage_key).exists() for r in runs[30:])


def test_the_newest_verified_backup_is_never_deleted(make_plan):
    plan = make_plan(retention_days=7)
    old_verified = _stored_run(plan, at=NOW - timedelta(days=50), verified=True)
    _daily(plan, 20)
    retention_apply(now=NOW)
    assert Run.objects.filter(pk=old_verified.pk).exists()
    assert Run.objects.count() == 8


def test_the_newest_success_stays_when_every_backup_since_failed(make_plan):
    plan = make_plan(retention_days=7)
    last_good = _stored_run(plan, at=NOW - timedelta(days=40))
    _daily(plan, 20, status=Status.FAILED)
    retention_apply(now=NOW)
    assert list(Run.objects.filter(status=Status.SUCCEEDED)) == [last_good]
    assert Run.objects.filter(status=Status.FAILED).count() == 7


def test_grandfather_father_son_keeps_dailies_weeklies_and_monthlies(make_plan):
    plan = make_plan(retention_days=7, keep_daily=7, keep_weekly=4, keep_monthly=6)
    runs = _daily(plan, 200)  # one a day back to mid-December
    with time_machine.travel(NOW, tick=False):
        retention_apply(now=NOW)
    days = sorted(r.finished_at.date().isoformat() for r in Run.objects.all())
    # Tuesday 30 June: the last 7 days; the newest of the 4 ISO weeks (28, 21, 14 June); of 6 months.
    dailies = [f"2026-06-{d}" for d in range(24, 31)]
    weeklies = ["2026-06-14", "2026-06-21"]  # the 28th is a daily already
    monthlies = ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]
    assert days == sorted(dailies + weeklies + monthlies)
    assert not (storage_for(plan).root / runs[-1].storage_key).exists()


def test_orphans_are_removed_and_a_dry_run_changes_nothing(make_plan):
    plan = make_plan()
    run = _stored_run(plan, at=NOW - timedelta(days=1))
    root = storage_for(plan).root
    orphan = root / plan.name / "database" / "left-by-a-crash.sqlite3.zst.age"
    orphan.write_bytes(b"x")
    report = retention_apply(now=NOW, dry_run=True)
    assert report.orphans == [f"{plan.name}: {plan.name}/database/left-by-a-crash.sqlite3.zst.age"]
    assert orphan.exists()
    retention_apply(now=NOW)
    assert not orphan.exists() and (root / run.storage_key).exists()


def test_one_run_is_deleted_on_its_own(make_plan):
    plan = make_plan()
    first, second = _daily(plan, 2)
    run_delete(run=second)
    assert list(Run.objects.all()) == [first]
    assert not (storage_for(plan).root / second.storage_key).exists()
