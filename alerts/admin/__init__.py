from alerts.admin import incidents, noise  # noqa: F401  registers the model admins
from alerts.admin import rules  # noqa: F401
