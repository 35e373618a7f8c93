from celery import shared_task

from monitoring.security.services import security_events_retention_apply


@shared_task(name="security.apply_retention")
def apply_security_retention() -> int:
    return security_events_retention_apply()
