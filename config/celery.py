"""The Celery app: queues, routing, reliability defaults and the dispatcher schedule.

Beat only ticks a handful of dispatcher tasks; state lives in the database and work is
claimed there, so the schedule below never grows with the number of targets.
"""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

from monitoring.health.worker_pulse import WorkerPulse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lookout")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("default", "probes", "ingest", "notify", "backups")
# Probe queues per region are declared by the workers that serve them (-Q probes.<region>);
# the embedded default has the one region "local".
REGION_QUEUES = ("probes.local",)

app.conf.update(
    task_default_queue="default",
    task_queues=[Queue(name) for name in (*QUEUES, *REGION_QUEUES)],
    # Routes by task name (names are stable, see each tasks.py). Probe batches are sent to
    # their region's queue explicitly; anything else (dispatchers, housekeeping) runs on "default".
    task_routes={
        "uptime.probe_batch": {"queue": "probes"},
        "delivery.*": {"queue": "notify"},
        "status.*": {"queue": "notify"},
        "backups.*": {"queue": "backups"},
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_expires=None,  # no result backend, so nothing for beat to clean up
    # Every Lookout task is idempotent, so a task whose worker died is run again rather
    # than lost: acknowledge after the work, and requeue when the worker process is lost.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_scheduler="config.beat:CodeDefaultsScheduler",
)

# Defaults for the admin-editable schedule (django-celery-beat). An entry edited in the
# admin keeps its edits across restarts; one deleted there is put back at beat start.
app.conf.beat_schedule = {
    # Alert rules read rollups, so their freshness bounds how soon a breach is seen; a
    # tick rebuilds only the minutes that got points since the last one.
    "telemetry-rollups": {
        "task": "telemetry.build_rollups",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    "telemetry-retention": {
        "task": "telemetry.apply_retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "fold-error-issues": {
        "task": "errors.fold_issues",
        "schedule": 10.0,
        "options": {"expires": 9},
    },
    "error-retention": {
        "task": "errors.apply_retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "traces-retention": {
        "task": "traces.apply_retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "security-retention": {
        "task": "security.apply_retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "housekeeping": {
        "task": "health.housekeeping",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "dispatch-due-probes": {
        "task": "uptime.dispatch_due_probes",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    "detect-late-heartbeats": {
        "task": "heartbeats.detect_late",
        "schedule": 10.0,
        "options": {"expires": 9},
    },
    "roll-up-uptime": {
        "task": "uptime.roll_up",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Rules keep their own intervals (next_evaluation_at); the tick only finds the due ones,
    # so it ticks often: a rule waits at most this long past its due time.
    "evaluate-alert-rules": {
        "task": "rules.evaluate_due",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    "prune-uptime": {
        "task": "uptime.prune",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "deliver-due-notifications": {
        "task": "delivery.deliver_due",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    # Status page subscribers: maintenance to announce, notices due (retries, missed nudges).
    "status-subscribers": {
        "task": "status.subscribers_tick",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "notify-due-incidents": {
        "task": "incidents.notify_due",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    "apply-maintenance-pauses": {
        "task": "incidents.apply_maintenance_pauses",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "advance-escalations": {
        "task": "paging.advance_escalations",
        "schedule": 10.0,
        "options": {"expires": 9},
    },
    # Plans keep their own cron (next_run_at, next_verify_at); the tick claims due ones onto
    # the "backups" queue and fails runs whose worker died. Retention and the monthly
    # disaster-recovery drill are plain ticks too.
    "dispatch-backups": {
        "task": "backups.dispatch_due",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "backup-retention": {
        "task": "backups.retention",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Digests are composed for the newest closed UTC day and week; a tick finds only the
    # opt-ins still without theirs, so it may tick often and twice.
    "compose-digests": {
        "task": "digests.compose_due",
        "schedule": 600.0,
        "options": {"expires": 550},
    },
    "deliver-due-digests": {
        "task": "digests.deliver_due",
        "schedule": 30.0,
        "options": {"expires": 25, "queue": "notify"},
    },
    "backup-drill": {
        "task": "backups.drill",
        "schedule": crontab(minute=0, hour=5, day_of_month=1),
        "options": {"expires": 3600},
    },
}

app.steps["worker"].add(WorkerPulse)
# Each feature keeps its tasks in its own tasks.py.
app.autodiscover_tasks(
    [
        "monitoring.errors",
        "monitoring.health",
        "monitoring.heartbeats",
        "monitoring.security",
        "monitoring.telemetry",
        "monitoring.traces",
        "monitoring.uptime",
        "alerts.delivery",
        "alerts.digests",
        "alerts.incidents",
        "alerts.paging",
        "alerts.status",
        "alerts.rules",
        "backups",
    ]
)
