from monitoring.admin import projects, pulses, tokens  # noqa: F401  registers the model admins
from monitoring.admin import targets  # noqa: F401
from monitoring.admin import telemetry  # noqa: F401
from monitoring.admin import errors  # noqa: F401
