"""The application/health+json body (IETF draft "Health Check Response Format for HTTP APIs")."""

from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheckResult
from health_check.exceptions import ServiceWarning

from monitoring.health.uptime import process_uptime_seconds

CONTENT_TYPE = "application/health+json"
SERVICE_ID = "lookout"
DESCRIPTION = "Lookout monitoring portal"
PASS, WARN, FAIL = "pass", "warn", "fail"
_SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}


def result_status(result: HealthCheckResult) -> str:
    if result.error is None:
        return PASS
    return WARN if isinstance(result.error, ServiceWarning) else FAIL


def worst(statuses) -> str:
    return max(statuses, key=_SEVERITY.__getitem__, default=PASS)


def check_entry(result: HealthCheckResult, *, at: str) -> dict:
    check = result.check
    status = result_status(result)
    entry = {
        "componentId": check.component_id,
        "componentType": check.component_type,
        "observedValue": check.observation(result),
        "observedUnit": check.unit,
        "status": status,
        "time": at,
    }
    if status != PASS:
        entry["output"] = result.error.message
    return {key: value for key, value in entry.items() if value is not None}


def health_body(results: list[HealthCheckResult], *, response_time_ms: float) -> dict:
    at = timezone.now().isoformat()
    status = worst(result_status(r) for r in results)
    checks = {r.check.key: _entries(r, at=at) for r in results}
    # Measurements of this process itself: system-level keys without a component.
    checks["uptime"] = [_system_entry(round(process_uptime_seconds(), 3), "s", at=at)]
    checks["responseTime"] = [_system_entry(round(response_time_ms, 2), "ms", at=at)]
    body = {
        "status": status,
        "version": settings.VERSION,
        "serviceId": SERVICE_ID,
        "description": DESCRIPTION,
        "checks": checks,
    }
    if status != PASS:
        body["output"] = "; ".join(f"{r.check.key}: {r.error.message}" for r in results if r.error is not None)
    return body


def _entries(result: HealthCheckResult, *, at: str) -> list[dict]:
    """A check of several instances (each region's workers) lists each; others are one entry."""
    instances = getattr(result.check, "entries", None)
    if instances is not None and result.check.entries():
        return [{**entry, "time": at} for entry in result.check.entries()]
    return [check_entry(result, at=at)]


def _system_entry(value: float, unit: str, *, at: str) -> dict:
    return {
        "componentType": "system",
        "observedValue": value,
        "observedUnit": unit,
        "status": PASS,
        "time": at,
    }
