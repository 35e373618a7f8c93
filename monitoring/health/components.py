"""What each check measures, and which checks make up each endpoint."""

from typing import ClassVar

from health_check.base import HealthCheckResult


class Component:
    """Mixin for a health check: how its result reads in an application/health+json answer.

    By default a check reports how long its probe took, in milliseconds; checks that
    observe something else (a pulse's age) override `observation`.
    """

    name: ClassVar[str]  # the "<component>" half of the answer's check key
    measurement: ClassVar[str] = "responseTime"
    component_type: ClassVar[str] = "component"
    unit: ClassVar[str] = "ms"
    # True for a dependency whose loss degrades the portal without failing requests (the
    # cache: rate limits go per process): its outage is a warning, and /health/ready
    # keeps answering 200 so a load balancer keeps routing to a process that serves.
    outage_warns: ClassVar[bool] = False

    @property
    def component_id(self) -> str | None:
        return None

    def observation(self, result: HealthCheckResult) -> float | None:
        return round(result.time_taken * 1000, 2)

    @property
    def key(self) -> str:
        return f"{self.name}:{self.measurement}"
