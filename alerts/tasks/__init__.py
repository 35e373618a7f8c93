"""Celery tasks, one module per concern; the module decides the queue (config/celery.py)."""

from alerts.tasks import incidents  # noqa: F401
from alerts.tasks import delivery  # noqa: F401
from alerts.tasks import escalation  # noqa: F401
