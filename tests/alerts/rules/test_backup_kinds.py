"""Backup rules: a backup failed, a plan overdue, no backup verified for days, a verification
failed, a backup shrunk. Real plan, run and verification rows, read by the real selector."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from alerts.rules.examples import EXAMPLE_RULES
from alerts.rules.kinds import RULE_KINDS
from backups.models import Plan, Run, Status, Verification
from tests.alerts.rules.factories import RuleFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BACKUP_KINDS = (
    "backup_failed",
    "backup_overdue",
    "backup_unverified",
    "backup_verification_failed",
    "backup_size_drop",
)


def plan(name: str, **fields) -> Plan:
    with time_machine.travel(NOW - timedelta(days=30)):  # made long before the slots the tests look at
        return Plan.objects.create(name=name, cron="0 2 * * *", **fields)


def run(of: Plan, *, at: datetime, status=Status.SUCCEEDED, size=10_000_000, error="", verified_at=None) -> Run:
    return Run.objects.create(
        plan=of,
        kind="database",
        format="pg_dump -Fc",
        storage="local",
        status=status,
        error=error,
        failure_kind="source" if error else "",
        started_at=at,
        finished_at=at + timedelta(minutes=1),
        stored_bytes=size if status == Status.SUCCEEDED else 0,
        verified_at=verified_at,
    )


def rule_of(kind: str, params: dict | None = None, **fields):
    return RuleFactory(
        project=None,
        name=kind.replace("_", " "),
        kind=kind,
        next_evaluation_at=NOW,
        params=RULE_KINDS[kind].validate_params(params or {}),
        **fields,
    )


def firing(signals) -> dict[str, str]:
    return {s.labels["plan"]: s.summary for s in signals if s.status == "firing"}


def test_a_failed_backup_fires_with_its_error_and_the_next_success_resolves_it(db, tick, signals):
    nightly, app = plan("portal-nightly"), plan("app-db")
    run(nightly, at=NOW - timedelta(days=1))
    run(nightly, at=NOW - timedelta(hours=10), status=Status.FAILED, error="pg_dump: connection refused\nmore")
    run(app, at=NOW - timedelta(hours=10), status=Status.FAILED, error="earlier failure")
    run(app, at=NOW - timedelta(hours=9))  # failed, then succeeded: not failing
    rule_of("backup_failed")

    tick(NOW)
    assert firing(signals) == {"portal-nightly": "backup 'portal-nightly' failed: pg_dump: connection refused"}

    run(nightly, at=NOW)
    tick(NOW + timedelta(minutes=2))
    assert [s.status for s in signals] == ["firing", "resolved"]


def test_a_plan_without_a_success_since_its_slot_and_grace_is_overdue(db, tick, signals):
    late, fresh = plan("portal-nightly"), plan("app-db")
    run(late, at=datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    run(late, at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC), status=Status.FAILED, error="disk full")
    run(fresh, at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    rule_of("backup_overdue")

    tick(NOW)

    assert firing(signals) == {
        "portal-nightly": "backup 'portal-nightly' overdue: no success since 2026-03-09 02:01 UTC, "
        "due by 2026-03-10 02:00 UTC; last failure: disk full"
    }
    [signal] = signals
    assert signal.value == pytest.approx(33.98, abs=0.01)  # hours since the last success


def test_a_rule_watches_only_the_plans_it_names_and_never_a_disabled_one(db, tick, signals):
    plan("portal-nightly")  # never succeeded: overdue
    plan("app-db")
    plan("old", enabled=False)
    rule_of("backup_overdue", {"plans": ["portal-nightly", "old"]})

    tick(NOW)

    assert list(firing(signals)) == ["portal-nightly"]
    assert firing(signals)["portal-nightly"] == (
        "backup 'portal-nightly' overdue: no success yet, due by 2026-03-10 02:00 UTC"
    )


def test_the_newest_backup_unverified_for_more_than_the_days(db, tick, signals):
    stale, proven, recent = plan("portal-nightly"), plan("app-db"), plan("fresh")
    run(stale, at=NOW - timedelta(days=9), verified_at=None)
    run(proven, at=NOW - timedelta(days=9), verified_at=NOW - timedelta(days=8))
    run(recent, at=NOW - timedelta(days=2))
    rule_of("backup_unverified", {"days": 7})

    tick(NOW)

    assert firing(signals) == {
        "portal-nightly": "backup 'portal-nightly' unverified for 9 days: no backup of it was ever verified; "
        "its newest success (2026-03-01 12:01 UTC) has not been proven by a test restore"
    }


def test_daily_backups_that_verification_never_proves_fire_after_the_days(db, tick, signals):
    """The newest success is always under a day old; what ages is the newest proven one."""
    never, lapsed, weekly, young = plan("portal-nightly"), plan("app-db"), plan("weekly-proven"), plan("young")
    for day in range(10, 0, -1):
        at = NOW - timedelta(days=day)
        run(never, at=at)
        if day <= 6:  # young: backed up daily for six days, never verified, within the seven
            run(young, at=at)
        # app-db was proven once, nine days ago, and never since
        run(lapsed, at=at, verified_at=at + timedelta(hours=1) if day == 9 else None)
        # weekly-proven: its verification proves the newest backup every seven days
        run(weekly, at=at, verified_at=at + timedelta(hours=1) if day in (10, 3) else None)
    rule_of("backup_unverified", {"days": 7})

    tick(NOW)

    assert firing(signals) == {
        "portal-nightly": "backup 'portal-nightly' unverified for 10 days: no backup of it was ever verified; "
        "its newest success (2026-03-09 12:01 UTC) has not been proven by a test restore",
        "app-db": "backup 'app-db' unverified for 9 days: its newest verified backup is from "
        "2026-03-01 12:01 UTC; its newest success (2026-03-09 12:01 UTC) has not been proven by a test restore",
    }


def test_a_failed_verification_fires_until_a_later_one_passes(db, tick, signals):
    nightly = plan("portal-nightly")
    newest = run(nightly, at=NOW - timedelta(hours=10))
    Verification.objects.create(
        plan=nightly,
        run=newest,
        status=Status.FAILED,
        failure_kind="row_counts",
        error="row counts differ: monitoring_target 3 ≠ 4",
        started_at=NOW - timedelta(hours=2),
        finished_at=NOW - timedelta(hours=2),
    )
    Run.objects.filter(pk=newest.pk).update(verification_failed_at=NOW - timedelta(hours=2))
    rule_of("backup_verification_failed")

    tick(NOW)
    assert firing(signals) == {
        "portal-nightly": "verification of backup 'portal-nightly' failed: row counts differ: monitoring_target 3 ≠ 4"
    }

    passed_at = NOW + timedelta(minutes=1)
    Verification.objects.create(
        plan=nightly, run=newest, status=Status.SUCCEEDED, started_at=passed_at, finished_at=passed_at
    )
    Run.objects.filter(pk=newest.pk).update(verified_at=passed_at)
    tick(NOW + timedelta(minutes=2))
    assert [s.status for s in signals] == ["firing", "resolved"]


def test_a_backup_less_than_half_the_median_of_the_last_seven_fires(db, tick, signals):
    empty, smaller, young = plan("portal-nightly"), plan("app-db"), plan("young")
    for day in range(8, 1, -1):
        run(empty, at=NOW - timedelta(days=day), size=10_000_000)
        run(smaller, at=NOW - timedelta(days=day), size=10_000_000)
    run(empty, at=NOW - timedelta(hours=10), size=120_000)  # an "empty" dump that succeeded
    run(smaller, at=NOW - timedelta(hours=10), size=6_000_000)  # 40 % smaller: within the rule
    run(young, at=NOW - timedelta(hours=10), size=100)  # nothing to compare with yet
    rule_of("backup_size_drop", {"drop_percent": 50})

    tick(NOW)

    assert firing(signals) == {
        "portal-nightly": "backup 'portal-nightly' shrank 99 % to 117.2 KB against a median of 9.5 MB "
        "over its previous runs"
    }


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("backup_failed", {"plans": ["nope"]}, "plans: no backup plan named 'nope'"),
        ("backup_failed", {"plans": "portal-nightly"}, "plans: must be a list of backup plan names"),
        ("backup_unverified", {"days": 0}, "days: must be at least 0.1"),
        ("backup_size_drop", {"drop_percent": 150}, "drop_percent: must be at most 99"),
        ("backup_overdue", {"grace": 5}, "grace: not a parameter of this kind"),
    ],
)
def test_bad_params_name_the_field(db, kind, params, message):
    plan("portal-nightly")
    with pytest.raises(ValidationError) as error:
        RULE_KINDS[kind].validate_params(params)
    assert message in error.value.message_dict["params"][0]


def test_every_backup_kind_has_an_example_rule_and_editor_fields_for_its_params(db):
    plan("portal-nightly")
    examples = {e.kind: e for e in EXAMPLE_RULES}
    for kind in BACKUP_KINDS:
        example = examples[kind]
        assert RULE_KINDS[kind].validate_params(example.params) == example.params
        fields = RULE_KINDS[kind].form_fields(project_id=None)
        assert set(fields) == set(RULE_KINDS[kind].example)
        assert fields["plans"].choices == [("portal-nightly", "portal-nightly")]
