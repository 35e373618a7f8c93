from alerts.admin import incidents, noise  # noqa: F401  registers the model admins
from alerts.admin import channels  # noqa: F401
from alerts.admin import paging  # noqa: F401
