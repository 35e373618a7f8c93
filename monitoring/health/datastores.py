"""Database, cache and file storage: the library's probes, described for our answer."""

import dataclasses
import datetime
import uuid

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError
from health_check.checks import Cache, Database, Storage
from health_check.exceptions import ServiceUnavailable
from redis.exceptions import RedisError

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
        # instead of opening and closing one in a pool thread on every answer.
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

    async def run(self):
        await sync_to_async(self._probe)()

    def _probe(self):
        """The library's write-then-read, plus removing the key afterwards.

        The library leaves its probe key to expire. The embedded file cache keeps expired
        files until it culls, and a cull evicts a random third of every entry (rate-limit
        counters too), so a polled /health would evict live data. One thread hop for the
        three calls, instead of one per call.
        """
        try:
            cache = caches[self.alias]
        except InvalidCacheBackendError as exc:
            raise ServiceUnavailable("cache alias does not exist") from exc
        key, value = f"{self.key_prefix}:{uuid.uuid4().hex}", uuid.uuid4().hex
        try:
            cache.set(key, value, timeout=self.timeout.total_seconds())
            try:
                if cache.get(key) != value:
                    raise ServiceUnavailable("the value read back is not the one written")
            finally:
                cache.delete(key)
        except (ConnectionError, RedisError) as exc:
            raise ServiceUnavailable(f"cannot reach the cache ({type(exc).__name__})") from exc


@dataclasses.dataclass
class StorageCheck(Component, Storage):
    name = "storage"
    component_type = "datastore"
    timeout = PROBE_TIMEOUT

    @property
    def component_id(self) -> str:
        return self.alias
