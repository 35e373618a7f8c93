"""Database, cache and file storage: the library's probes, described for our answer."""

import dataclasses
import datetime

from asgiref.sync import sync_to_async
from health_check.checks import Cache, Database, Storage

from monitoring.health.components import Component

# A load balancer gives up after a few seconds; answer before it does.
PROBE_TIMEOUT = datetime.timedelta(seconds=2)


@dataclasses.dataclass
class DatabaseCheck(Component, Database):
    name = "database"
    component_type = "datastore"
    timeout = PROBE_TIMEOUT

    @property
    def component_id(self) -> str:
        return self.alias

    async def run(self):
        # On the request's own thread, so the probe reuses its persistent connection
        # instead of opening (and leaking) one in a pool thread.
        await sync_to_async(super().run)()


@dataclasses.dataclass
class CacheCheck(Component, Cache):
    name = "cache"
    component_type = "datastore"
    # The library uses this field both as the probe's budget and its key's expiry.
    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    @property
    def component_id(self) -> str:
        return self.alias


@dataclasses.dataclass
class StorageCheck(Component, Storage):
    name = "storage"
    component_type = "datastore"
    timeout = PROBE_TIMEOUT

    @property
    def component_id(self) -> str:
        return self.alias
