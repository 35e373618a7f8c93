"""The face Django's admin autodiscovery imports: each feature registers its own model admins."""

from monitoring.errors import admin as errors_admin  # noqa: F401
from monitoring.health import admin as health_admin  # noqa: F401
from monitoring.logins import admin as logins_admin  # noqa: F401
from monitoring.projects import admin as projects_admin  # noqa: F401
from monitoring.security import admin as security_admin  # noqa: F401
from monitoring.telemetry import admin as telemetry_admin  # noqa: F401
from monitoring.uptime import admin as uptime_admin  # noqa: F401
