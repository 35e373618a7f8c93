"""The facts the alert rules and the dashboard tile read."""

from datetime import UTC, datetime, timedelta

import time_machine

from backups.models import Run, Status, Verification
from backups.selectors import freshness, plan_facts

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _run(plan, *, at, status=Status.SUCCEEDED, size=1000, error="", kind="database"):
    return Run.objects.create(
        plan=plan,
        kind=kind,
        format="sqlite",
        storage="local",
        status=status,
        error=error,
        started_at=at,
        finished_at=at + timedelta(minutes=1),
        stored_bytes=size,
    )


def test_a_plan_with_a_success_after_its_2am_slot_is_not_overdue(make_plan):
    with time_machine.travel(NOW - timedelta(days=3)):
        plan = make_plan()
    _run(plan, at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    (facts,) = plan_facts(NOW)
    assert facts.plan_name == "portal"
    assert not facts.overdue
    assert facts.last_success_at == datetime(2026, 3, 10, 2, 1, tzinfo=UTC)


def test_a_plan_whose_last_success_is_from_yesterday_is_overdue_past_the_grace(make_plan):
    with time_machine.travel(NOW - timedelta(days=3)):
        plan = make_plan()
    _run(plan, at=datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    _run(plan, at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC), status=Status.FAILED, error="pg_dump: connection refused")
    (facts,) = plan_facts(NOW)
    assert facts.overdue
    assert facts.last_failure_error == "pg_dump: connection refused"
    # Within the grace (02:00 + 3 h) it is not overdue yet.
    (early,) = plan_facts(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
    assert not early.overdue
    tile = freshness(NOW)
    assert tile.failing_plans == ["portal"] and tile.overdue_plans == ["portal"]


def test_a_new_plan_is_not_overdue_before_its_first_slot(make_plan):
    with time_machine.travel(NOW):
        make_plan()
    (facts,) = plan_facts(NOW + timedelta(hours=1))
    assert not facts.overdue


def test_median_of_the_seven_runs_before_the_newest(make_plan):
    plan = make_plan()
    for day, size in enumerate([100, 200, 300, 400, 500, 600, 700, 10_000, 40]):
        _run(plan, at=NOW - timedelta(days=9 - day), size=size)
    (facts,) = plan_facts(NOW)
    assert facts.newest_success_bytes == 40
    assert facts.median_bytes_last7 == 500  # 200..700 and 10000, the first 100 is the eighth back


def test_verification_facts(make_plan):
    plan = make_plan()
    run = _run(plan, at=NOW - timedelta(hours=2))
    assert freshness(NOW).unverified_plans == ["portal"]
    Verification.objects.create(
        plan=plan,
        run=run,
        status=Status.FAILED,
        error="row counts differ: monitoring_target 3 ≠ 4",
        started_at=NOW - timedelta(hours=1),
        finished_at=NOW - timedelta(hours=1),
    )
    Run.objects.filter(pk=run.pk).update(verification_failed_at=NOW - timedelta(hours=1))
    (facts,) = plan_facts(NOW)
    assert facts.newest_success_verified_at is None
    assert facts.newest_verified_success_at is None  # a failed verification proves nothing
    assert facts.last_verification_failed_at == NOW - timedelta(hours=1)
    assert "row counts differ" in facts.last_verification_error
    Run.objects.filter(pk=run.pk).update(verified_at=NOW)
    (facts,) = plan_facts(NOW)
    assert facts.newest_success_verified_at == NOW
    assert facts.newest_verified_success_at == run.finished_at
    tile = freshness(NOW)
    assert tile.newest_verified_at == NOW and tile.unverified_plans == []
    # A newer, unverified success leaves the newest proven restore point where it was.
    newer = _run(plan, at=NOW + timedelta(hours=1))
    (facts,) = plan_facts(NOW + timedelta(hours=2))
    assert facts.newest_success_verified_at is None
    assert facts.newest_verified_success_at == run.finished_at
    assert facts.first_success_at == run.finished_at and facts.last_success_at == newer.finished_at
