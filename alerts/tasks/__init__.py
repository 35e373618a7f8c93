"""Celery tasks, one module per concern; the module decides the queue (config/celery.py)."""

from alerts.tasks import incidents  # noqa: F401
from alerts.tasks import evaluation  # noqa: F401
