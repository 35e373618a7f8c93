"""Each worker records its own pulse from its timer, independent of beat.

If the pulse came from a task scheduled by beat, a dead beat would look like a dead
worker. A bootstep timer in the worker's main process beats as long as the worker lives.
"""

import logging

from celery import bootsteps
from django.utils import timezone

PULSE_EVERY_SECONDS = 15.0
# A worker that consumes a region's probe queue also pulses as "queue:probes.<region> <hostname>",
# so health can tell a region nobody probes from a live one (a worker on other queues
# must not make the region look served).
QUEUE_PULSE_PREFIX = "queue:"
REGION_QUEUE_PREFIX = "probes."


def queue_pulse_name(queue: str, hostname: str) -> str:
    return f"{QUEUE_PULSE_PREFIX}{queue} {hostname}"


logger = logging.getLogger(__name__)


class WorkerPulse(bootsteps.StartStopStep):
    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        # The queues the worker was started with (-Q); set before any bootstep starts.
        queues = sorted(q for q in worker.app.amqp.queues.consume_from if q.startswith(REGION_QUEUE_PREFIX))
        names = [worker.hostname, *(queue_pulse_name(q, worker.hostname) for q in queues)]
        self._record(names)
        self.tref = worker.timer.call_repeatedly(PULSE_EVERY_SECONDS, self._record, (names,))

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def _record(names: list[str]) -> None:
        from monitoring.health.services import pulse_record

        try:
            at = timezone.now()
            for name in names:
                pulse_record(kind="worker", name=name, at=at)
        except Exception:  # a database outage must not take the worker down; health shows it
            logger.warning("worker could not record its pulse", exc_info=True)
