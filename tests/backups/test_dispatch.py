"""The dispatcher claims due plans once per slot; the reaper fails runs whose worker is gone."""

from datetime import UTC, datetime, timedelta

from backups.models import FailureKind, Run, Status
from backups.services.plans import plan_schedule, plans_dispatch
from backups.services.runs import RunInProgress, run_start, runs_reap

NOW = datetime(2026, 3, 10, 1, 59, tzinfo=UTC)


def test_a_plan_is_claimed_once_at_its_cron_time(make_plan):
    plan = make_plan(cron="0 2 * * *", verify_cron="0 4 * * 0")
    plan_schedule(plan=plan, now=NOW)
    assert plan.next_run_at == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    sent: list[int] = []
    assert plans_dispatch(now=NOW, send_backup=sent.append, send_verify=sent.append).backups == 0
    at_two = NOW + timedelta(minutes=1)
    assert plans_dispatch(now=at_two, send_backup=sent.append, send_verify=lambda pk: None).backups == 1
    assert plans_dispatch(now=at_two, send_backup=sent.append, send_verify=lambda pk: None).backups == 0
    assert sent == [plan.pk]
    plan.refresh_from_db()
    assert plan.next_run_at == datetime(2026, 3, 11, 2, 0, tzinfo=UTC)


def test_a_refused_send_leaves_the_plan_due(make_plan):
    plan = make_plan()
    plan_schedule(plan=plan, now=NOW)

    def broker_down(pk):
        raise ConnectionError("broker down")

    try:
        plans_dispatch(now=NOW + timedelta(minutes=5), send_backup=broker_down, send_verify=lambda pk: None)
    except ConnectionError:
        pass
    plan.refresh_from_db()
    assert plan.next_run_at == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def test_one_run_per_plan_at_a_time(make_plan):
    plan = make_plan()
    run_start(plan=plan, kind="database")
    try:
        run_start(plan=plan, kind="export")
    except RunInProgress as exc:
        assert str(exc) == "plan portal already has a backup running"
    else:
        raise AssertionError("a second running run was accepted")


def test_the_reaper_fails_a_run_whose_process_is_gone(make_plan, backups_dir):
    import socket

    plan = make_plan()
    run = run_start(plan=plan, kind="database")
    run.storage_key = f"{plan.name}/database/x.sqlite3.zst.age"
    run.worker = f"{socket.gethostname()}:999999999"  # no such process
    run.save()
    partial = backups_dir / (run.storage_key + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half an upload")
    reaped = runs_reap(now=datetime.now(UTC))
    assert reaped.runs == 1 and reaped.partials_removed == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.WORKER_LOST
    assert "stopped reporting" in run.error
    assert not partial.exists()


def test_the_reaper_leaves_a_live_run_alone(make_plan):
    plan = make_plan()
    run_start(plan=plan, kind="database")
    assert runs_reap(now=datetime.now(UTC)).runs == 0
    assert Run.objects.get().status == Status.RUNNING


def test_the_beat_tick_runs_a_due_plan_through_its_task(make_plan, notes_db):
    from django.utils import timezone

    from backups.models import Plan
    from backups.tasks import dispatch_due
    from config.celery import app

    plan = make_plan(name="notes", source="sqlite", sqlite_path=str(notes_db))
    Plan.objects.filter(pk=plan.pk).update(
        next_run_at=timezone.now(), next_verify_at=timezone.now() + timedelta(days=1)
    )
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the broker is the outside world here
    try:
        assert dispatch_due() == 1
        assert dispatch_due() == 0  # claimed once
    finally:
        app.conf.task_always_eager = before
    run = Run.objects.get()
    assert run.status == Status.SUCCEEDED and run.trigger == "schedule" and run.row_counts == {"notes": 50}
