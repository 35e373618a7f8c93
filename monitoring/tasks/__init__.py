"""Celery tasks, one module per concern; the module decides the queue (config/celery.py)."""

from monitoring.tasks import errors, housekeeping  # noqa: F401
from monitoring.tasks import probes, uptime  # noqa: F401
from monitoring.tasks import rollups  # noqa: F401
