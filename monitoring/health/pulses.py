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
from monitoring.health.report import FAIL, PASS, WARN
from monitoring.health.worker_pulse import QUEUE_PULSE_PREFIX, REGION_QUEUE_PREFIX
from monitoring.models import Pulse, Target


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
                .exclude(name__startswith=QUEUE_PULSE_PREFIX)  # a worker's queue pulses: see RegionsCheck
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


@dataclasses.dataclass
class RegionsCheck(Component, HealthCheck):
    """Each region that a running target is probed from has a live worker on its queue
    (probes.<region>): without one, the region goes silent and its targets can't reach their
    quorum. One entry per region, its freshest queue pulse's age; fails when any has none."""

    name = "regions"
    measurement = "pulseAge"
    unit = "s"
    timeout = datetime.timedelta(seconds=2)

    def __post_init__(self) -> None:
        self.regions: list[dict] = []

    def observation(self, result: HealthCheckResult) -> float | None:
        ages = [r["age"] for r in self.regions if r["age"] is not None]
        return max(ages) if ages else None

    def entries(self) -> list[dict]:
        """One entry per region, as application/health+json lists a component's instances."""
        return [
            {
                "componentId": f"{REGION_QUEUE_PREFIX}{r['region']}",
                "componentType": "component",
                "observedValue": r["age"],
                "observedUnit": self.unit,
                "status": r["status"],
                **({"output": r["output"]} if r["output"] else {}),
            }
            for r in self.regions
        ]

    async def run(self):
        max_age = settings.HEALTH_WORKER_MAX_AGE
        try:
            used = sorted(
                {
                    region
                    async for regions in Target.objects.filter(paused=False)
                    .exclude(kind=Target.Kind.HEARTBEAT)
                    .values_list("regions", flat=True)
                    .distinct()
                    for region in regions or []
                }
            )
            pulses = [
                row
                async for row in Pulse.objects.filter(
                    kind=Pulse.Kind.WORKER, name__startswith=f"{QUEUE_PULSE_PREFIX}{REGION_QUEUE_PREFIX}"
                ).values_list("name", "last_seen_at")
            ]
        except DatabaseError as exc:
            raise ServiceUnavailable("cannot read region workers' pulses: database unavailable") from exc
        now = timezone.now()
        freshest: dict[str, datetime.datetime] = {}
        for name, seen in pulses:
            queue = name[len(QUEUE_PULSE_PREFIX) :].split(" ", 1)[0]
            region = queue[len(REGION_QUEUE_PREFIX) :]
            if region not in freshest or seen > freshest[region]:
                freshest[region] = seen
        for region in used:
            seen = freshest.get(region)
            age = None if seen is None else round(max(0.0, (now - seen).total_seconds()), 1)
            if age is None:
                status, output = FAIL, f"no worker consumes {REGION_QUEUE_PREFIX}{region}"
            elif age > max_age:
                status, output = FAIL, f"last {REGION_QUEUE_PREFIX}{region} worker pulse is {age:.0f} s old"
            elif age > max_age / 2:
                status, output = WARN, f"last {REGION_QUEUE_PREFIX}{region} worker pulse is {age:.0f} s old"
            else:
                status, output = PASS, ""
            self.regions.append({"region": region, "age": age, "status": status, "output": output})
        failing = [r["output"] for r in self.regions if r["status"] == FAIL]
        if failing:
            raise ServiceUnavailable(f"targets are probed from regions without a live worker: {'; '.join(failing)}")
        warning = [r["output"] for r in self.regions if r["status"] == WARN]
        if warning:
            raise ServiceWarning("; ".join(warning))
