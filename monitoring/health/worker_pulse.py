"""Each worker records its own pulse from its timer, independent of beat.

If the pulse came from a task scheduled by beat, a dead beat would look like a dead
worker. A bootstep timer in the worker's main process beats as long as the worker lives.
"""

import logging

from celery import bootsteps
from django.utils import timezone

PULSE_EVERY_SECONDS = 15.0

logger = logging.getLogger(__name__)


class WorkerPulse(bootsteps.StartStopStep):
    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        self._record(worker.hostname)
        self.tref = worker.timer.call_repeatedly(PULSE_EVERY_SECONDS, self._record, (worker.hostname,))

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def _record(hostname: str) -> None:
        from monitoring.health.services import pulse_record

        try:
            pulse_record(kind="worker", name=hostname, at=timezone.now())
        except Exception:  # a database outage must not take the worker down; health shows it
            logger.warning("worker could not record its pulse", exc_info=True)
