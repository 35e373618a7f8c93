"""Database, cache and file storage: the library's probes, described for our answer."""

import dataclasses
import datetime
import uuid

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError
from health_check.base import HealthCheckResult
from health_check.checks import Cache, Database, Storage
from health_check.exceptions import ServiceUnavailable, ServiceWarning
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


class CacheMisconfigured(ServiceUnavailable):
    """No such cache: a deployment error, which fails rather than warns."""


@dataclasses.dataclass
class CacheCheck(Component, Cache):
    """Warns, not fails, when the cache is unreachable: nothing in a request path needs it
    (rate limits fall back to per-process buckets), so a lost cache degrades the portal
    and must not take its processes out of a load balancer."""

    name = "cache"
    component_type = "datastore"
    outage_warns = True
    # The library uses this field both as the probe's budget and its key's expiry.
    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    @property
    def component_id(self) -> str:
        return self.alias

    async def run(self):
        await sync_to_async(self._probe)()

    async def get_result(self, executor=None) -> HealthCheckResult:
        result = await super().get_result(executor)
        error = result.error
        if error is None or isinstance(error, ServiceWarning | CacheMisconfigured):
            return result
        # The library's own time-out, and our unreachable or lost writes, alike.
        degraded = ServiceWarning(f"{error.message}; rate limits are per process until the cache is back")
        return dataclasses.replace(result, error=degraded)

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
            raise CacheMisconfigured("cache alias does not exist") from exc
        key, value = f"{self.key_prefix}:{uuid.uuid4().hex}", uuid.uuid4().hex
        try:
            cache.set(key, value, timeout=self.timeout.total_seconds())
            try:
                if cache.get(key) != value:
                    raise ServiceUnavailable("the value read back is not the one written")
            finally:
                cache.delete(key)
        except (OSError, RedisError) as exc:  # OSError: the file cache's folder, and ConnectionError
            raise ServiceUnavailable(f"cannot reach the cache ({type(exc).__name__})") from exc


@dataclasses.dataclass
class StorageCheck(Component, Storage):
    name = "storage"
    component_type = "datastore"
    timeout = PROBE_TIMEOUT

    @property
    def component_id(self) -> str:
        return self.alias
