"""Celery tasks, one module per concern; importing them here registers them with the worker."""

from alerts.tasks import escalation  # noqa: F401
