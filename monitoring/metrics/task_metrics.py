"""Counts and times Celery tasks in whichever process runs them (worker child or eager)."""

import time

from celery.signals import task_postrun, task_prerun

from monitoring.metrics.registry import TASK_SECONDS, TASKS

_STARTED = "lookout_metrics_started"


@task_prerun.connect(dispatch_uid="lookout-metrics-task-started")
def _task_started(task=None, **_):
    if task is not None:
        setattr(task.request, _STARTED, time.perf_counter())


@task_postrun.connect(dispatch_uid="lookout-metrics-task-finished")
def _task_finished(task=None, state=None, **_):
    # Sent for every outcome (SUCCESS, FAILURE, RETRY…), after the task's own handlers.
    if task is None:
        return
    labels = (task.name, state or "UNKNOWN")
    TASKS.labels(*labels).inc()
    started = getattr(task.request, _STARTED, None)
    if started is not None:
        TASK_SECONDS.labels(*labels).observe(time.perf_counter() - started)
