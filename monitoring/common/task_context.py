"""Carries the request id from the request that enqueues a task into the task's logs."""

from celery.signals import before_task_publish, task_postrun, task_prerun

from monitoring.common.request_context import request_id_var

HEADER = "lookout_request_id"


@before_task_publish.connect
def _stamp_request_id(headers=None, **_):
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers[HEADER] = request_id


@task_prerun.connect
def _adopt_request_id(task=None, **_):
    incoming = getattr(task.request, HEADER, None) if task else None
    task.request.lookout_token = request_id_var.set(incoming or task.request.id or "-")


@task_postrun.connect
def _forget_request_id(task=None, **_):
    token = getattr(task.request, "lookout_token", None) if task else None
    if token is not None:
        request_id_var.reset(token)
