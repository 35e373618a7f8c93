from celery import shared_task

from monitoring.traces.services import traces_retention_apply


@shared_task(name="traces.apply_retention")
def apply_traces_retention() -> int:
    return traces_retention_apply()
