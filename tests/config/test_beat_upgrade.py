"""A database migrated by the code before tasks had stable names keeps every beat entry, and the
entries it stored still run probes, heartbeat detection and rule evaluation after the upgrade."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.beat import CodeDefaultsScheduler
from config.celery import app
from monitoring.heartbeats.services.pings import Ping, heartbeat_ping
from monitoring.models import HeartbeatPing, ProbeResult, Status
from tests.alerts.rules.factories import RuleFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory
from tests.monitoring.uptime.servers import http_app, serve_http

pytestmark = pytest.mark.django_db(transaction=True)

# What the scheduler of the code before stored: entry name -> task path.
STORED_BEFORE = {
    "telemetry-rollups": "monitoring.tasks.rollups.build_rollups",
    "telemetry-retention": "monitoring.tasks.rollups.apply_telemetry_retention",
    "fold-error-issues": "monitoring.tasks.errors.fold_error_issues",
    "error-retention": "monitoring.tasks.errors.apply_error_retention",
    "housekeeping": "monitoring.tasks.housekeeping.housekeeping",
    "dispatch-due-probes": "monitoring.tasks.uptime.dispatch_due_probes",
    "detect-late-heartbeats": "monitoring.tasks.uptime.detect_late_heartbeats",
    "roll-up-uptime": "monitoring.tasks.uptime.roll_up_uptime",
    "evaluate-alert-rules": "alerts.tasks.evaluation.evaluate_due_rules",
    "prune-uptime": "monitoring.tasks.uptime.prune_uptime",
    "deliver-due-notifications": "alerts.tasks.delivery.deliver_due",
    "notify-due-incidents": "alerts.tasks.incidents.notify_due_incidents",
    "apply-maintenance-pauses": "alerts.tasks.incidents.apply_maintenance_pauses",
    "advance-escalations": "alerts.tasks.escalation.advance_escalations",
}
BEFORE = [("monitoring", "0009_one_index_by_target_on_high_volume_tables")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def upgraded_database():
    """Rows as the old beat left them, with one an operator had slowed down, then the upgrade."""
    _migrate(BEFORE)
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    for name, task in STORED_BEFORE.items():
        PeriodicTask.objects.create(name=name, task=task, interval=every_minute)
    slowed, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.filter(name="prune-uptime").update(interval=slowed, enabled=False)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    CodeDefaultsScheduler(app=app, lazy=True).setup_schedule()  # beat starts on the new code
    return slowed


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _run_stored(entry_name: str):
    app.loader.import_default_modules()
    task = PeriodicTask.objects.get(name=entry_name).task
    assert task in app.tasks, f"beat entry {entry_name!r} still names {task!r}, which no worker registers"
    return app.tasks[task].apply().get()


def test_every_entry_survives_with_a_registered_task_and_operator_edits_kept(upgraded_database):
    stored = dict(PeriodicTask.objects.exclude(name__startswith="celery.").values_list("name", "task"))
    assert set(stored) == set(app.conf.beat_schedule)  # none lost, none added twice
    assert stored == {name: spec["task"] for name, spec in app.conf.beat_schedule.items()}
    pruning = PeriodicTask.objects.get(name="prune-uptime")
    assert (pruning.interval_id, pruning.enabled) == (upgraded_database.pk, False)


def test_the_stored_entries_still_probe_detect_heartbeats_and_evaluate_rules(upgraded_database, eager):
    with serve_http(http_app()) as url:
        target = TargetFactory(url=f"{url}/ok")
        assert _run_stored("dispatch-due-probes") == 1
    assert ProbeResult.objects.filter(target=target).exists()

    heartbeat = HeartbeatFactory(period_seconds=60, grace_seconds=60)
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    assert heartbeat_ping(ping_key=heartbeat.ping_key, ping=Ping(kind=HeartbeatPing.Kind.SUCCESS, at=an_hour_ago))
    assert _run_stored("detect-late-heartbeats") == 1
    heartbeat.target.refresh_from_db()
    assert heartbeat.target.status != Status.UP

    RuleFactory(next_evaluation_at=timezone.now() - dt.timedelta(seconds=1))
    assert _run_stored("evaluate-alert-rules") == 1
