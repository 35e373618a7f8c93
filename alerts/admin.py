"""The face Django's admin autodiscovery imports: each feature registers its own model admins."""

from alerts.delivery import admin as delivery_admin  # noqa: F401
from alerts.digests import admin as digests_admin  # noqa: F401
from alerts.incidents import admin as incidents_admin  # noqa: F401
from alerts.paging import admin as paging_admin  # noqa: F401
from alerts.rules import admin as rules_admin  # noqa: F401
from alerts.status import admin as status_admin  # noqa: F401
