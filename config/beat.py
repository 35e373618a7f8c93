"""The beat scheduler: django-celery-beat's, with two changes a team running it needs."""

import logging

from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

PULSE_EVERY_SECONDS = 5

logger = logging.getLogger(__name__)


class CodeDefaultsScheduler(DatabaseScheduler):
    """Installs the schedule from code only where the admin has no such entry yet.

    The stock scheduler writes `beat_schedule` over the database on every start, which
    would undo what an operator changed in the admin. It also records each tick, so the
    health check can tell that beat itself is alive, not only that tasks still run.
    """

    _last_pulse = 0.0

    def setup_schedule(self):
        self.install_default_entries(self.schedule)
        existing = set(PeriodicTask.objects.values_list("name", flat=True))
        missing = {n: e for n, e in self.app.conf.beat_schedule.items() if n not in existing}
        self.update_from_dict(missing)

    def tick(self, *args, **kwargs):
        now = self.app.now().timestamp()
        if now - self._last_pulse >= PULSE_EVERY_SECONDS:
            from monitoring.health.services import pulse_record

            try:
                pulse_record(kind="beat", name="beat", at=timezone.now())
            except Exception:  # a database outage must not stop beat; health shows it
                logger.warning("beat could not record its pulse", exc_info=True)
            self._last_pulse = now
        return super().tick(*args, **kwargs)
