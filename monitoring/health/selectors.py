"""The health panel of the admin index."""

from dataclasses import dataclass

from asgiref.sync import async_to_sync

from monitoring.health.report import result_status, worst
from monitoring.health.runner import run_checks

# Everything but storage, whose probe writes and deletes a file: the index is opened
# often, and /health still checks storage for whoever monitors the portal.
DASHBOARD_COMPONENTS = ("db", "cache", "broker", "beat", "worker")
# Fresh on every view, no cache: the checks run concurrently and each is reported as
# failed after this long. A blocking client stuck on a silent server (cache, database)
# still holds the page until its own timeout: Redis' is 5 s, give PostgreSQL a
# connect_timeout in its options.
DASHBOARD_BUDGET_SECONDS = 1.0
# Unfold's label colours for each status.
LABEL_VARIANTS = {"pass": "success", "warn": "warning", "fail": "danger"}


@dataclass(frozen=True)
class HealthRow:
    component: str
    status: str  # pass, warn or fail
    observed: str  # "3.1 ms", "12 s", or "" when nothing was observed
    detail: str  # why it is not passing, or which instance answered

    @property
    def variant(self) -> str:
        return LABEL_VARIANTS[self.status]


@dataclass(frozen=True)
class HealthSummary:
    status: str
    rows: list[HealthRow]

    @property
    def variant(self) -> str:
        return LABEL_VARIANTS[self.status]


def health_summary() -> HealthSummary:
    results = async_to_sync(run_checks)(DASHBOARD_COMPONENTS, budget_seconds=DASHBOARD_BUDGET_SECONDS)
    rows = []
    for result in results:
        check = result.check
        value = check.observation(result)
        rows.append(
            HealthRow(
                component=check.name,
                status=result_status(result),
                observed="" if value is None else f"{value:g} {check.unit}",
                detail=result.error.message if result.error else (check.component_id or ""),
            )
        )
    return HealthSummary(status=worst(row.status for row in rows), rows=rows)
