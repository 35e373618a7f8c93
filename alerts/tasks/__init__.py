"""Celery tasks, one module per concern; the module decides the queue (config/celery.py)."""

from alerts.tasks import delivery, escalation, evaluation, incidents  # noqa: F401
