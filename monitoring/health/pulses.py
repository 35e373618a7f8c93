"""Beat and the workers are alive when their last pulse is recent (thresholds: see __init__)."""

import dataclasses
import datetime
from typing import ClassVar

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from health_check.base import HealthCheck, HealthCheckResult
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from monitoring.health.components import Component
from monitoring.models import Pulse


@dataclasses.dataclass
class PulseCheck(Component, HealthCheck):
    kind: ClassVar[str]
    max_age_setting: ClassVar[str]

    measurement = "pulseAge"
    unit = "s"
    timeout = datetime.timedelta(seconds=2)

    def __post_init__(self) -> None:
        self.process_name: str | None = None
        self.age: float | None = None

    @property
    def component_id(self) -> str | None:
        return self.process_name

    def observation(self, result: HealthCheckResult) -> float | None:
        return None if self.age is None else round(self.age, 1)

    async def run(self):
        max_age = getattr(settings, self.max_age_setting)
        try:
            # The freshest process of the kind: one live worker is enough to run tasks.
            freshest = await (
                Pulse.objects.filter(kind=self.kind)
                .order_by("-last_seen_at")
                .values_list("name", "last_seen_at")
                .afirst()
            )
        except DatabaseError as exc:
            raise ServiceUnavailable(f"cannot read {self.kind} pulses: database unavailable") from exc
        if freshest is None:
            raise ServiceUnavailable(f"no {self.kind} has pulsed yet")
        self.process_name, last_seen_at = freshest
        # Clocks of other hosts may run a little ahead; a pulse from the future is fresh.
        self.age = max(0.0, (timezone.now() - last_seen_at).total_seconds())
        if self.age > max_age:
            raise ServiceUnavailable(f"last {self.kind} pulse is {self.age:.0f} s old (limit {max_age} s)")
        if self.age > max_age / 2:
            raise ServiceWarning(f"last {self.kind} pulse is {self.age:.0f} s old (limit {max_age} s)")


@dataclasses.dataclass
class BeatCheck(PulseCheck):
    name = "beat"
    kind = Pulse.Kind.BEAT
    max_age_setting = "HEALTH_BEAT_MAX_AGE"


@dataclasses.dataclass
class WorkerCheck(PulseCheck):
    name = "worker"
    kind = Pulse.Kind.WORKER
    max_age_setting = "HEALTH_WORKER_MAX_AGE"
