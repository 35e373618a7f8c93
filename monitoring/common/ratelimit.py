"""Token buckets in the shared cache, so every web process draws on the same one.

A bucket refills at `rate` tokens a second up to `burst`; a request takes one token, or as
many as the items it carries (`cost`). On a
Redis cache the whole take is one Lua script on the server, timed by the server's clock:
atomic across processes and machines, so a burst racing on one key gets exactly its
share. Other caches (the embedded file cache, one machine) read then write, so a burst
racing there can take a few requests more than its share; it cannot go on unthrottled.

A lost cache must not fail ingest (the data would be safe, but clients would be told it
failed). When the cache cannot be reached, each process keeps its own buckets in memory:
every process then allows the full rate, so N processes allow N times it for as long as
the outage lasts, which is still a limit. The switch is logged once per outage and every
decision taken without the cache is counted (lookout_ratelimit_cache_fallbacks_total).
After a failure the cache is left alone for CACHE_RETRY_SECONDS: a cache that hangs
rather than refuses would otherwise cost every request its socket timeout.
"""

import logging
import math
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from prometheus_client import Counter

from monitoring.common.shared_cache import CacheUnreachable, Outage

logger = logging.getLogger(__name__)


FALLBACKS = Counter(
    "lookout_ratelimit_cache_fallbacks",
    "Rate-limit decisions taken by a process on its own, because the shared cache was unreachable.",
)

# With no refill, a drained bucket never fills again: tell the client to come back later.
NO_REFILL_RETRY_SECONDS = 60

# KEYS[1] the bucket; ARGV rate, burst, ttl, cost. Returns -1 when `cost` tokens were taken,
# else the tokens there are (fewer than cost), so the caller can say how long until enough.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst, ttl, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
if tokens < cost then return tostring(tokens) end
redis.call('HSET', KEYS[1], 't', tostring(tokens - cost), 'u', tostring(now))
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return '-1'
"""


def token_bucket_take(*, bucket: str, rate: float, burst: int, cost: int = 1) -> int:
    """Take `cost` tokens from `bucket`: 0 if they were there, else the seconds until they will
    be. A cost over `burst` can never be paid: it waits as a drained bucket does."""
    # Kept as long as a full refill takes: an idle key's bucket is full anyway.
    ttl = math.ceil(burst / rate) + 1 if rate > 0 else 0
    try:
        tokens = _take_shared(bucket, rate=rate, burst=burst, ttl=ttl, cost=cost)
    except CacheUnreachable:
        FALLBACKS.inc()
        tokens = _LOCAL.take(bucket, rate=rate, burst=burst, ttl=ttl, cost=cost)
    if tokens is None:
        return 0
    if rate <= 0 or cost > burst:
        return NO_REFILL_RETRY_SECONDS
    return math.ceil((cost - tokens) / rate)


_OUTAGE = Outage("rate limiting per process", logger)


def _take_shared(bucket: str, *, rate: float, burst: int, ttl: int, cost: int) -> float | None:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _OUTAGE.attempt(lambda: _take_on_redis(cache, bucket, rate=rate, burst=burst, ttl=ttl, cost=cost))
    return _OUTAGE.attempt(lambda: _take_in_cache(cache, bucket, rate=rate, burst=burst, ttl=ttl, cost=cost))


class _LocalBuckets:
    """The same buckets in this process's memory, for while the cache is away."""

    # Past this many buckets, full ones are dropped: a full bucket is what a missing one reads as.
    PRUNE_AT = 10_000

    def __init__(self) -> None:
        self.buckets: dict[str, tuple[float, float, int]] = {}  # tokens, updated, ttl
        self.lock = threading.Lock()

    def take(self, bucket: str, *, rate: float, burst: int, ttl: int, cost: int) -> float | None:
        now = time.monotonic()
        with self.lock:
            if len(self.buckets) >= self.PRUNE_AT:
                self._prune(now)
            tokens, updated, _ = self.buckets.get(bucket, (float(burst), now, ttl))
            tokens = min(float(burst), tokens + (now - updated) * rate)
            if tokens < cost:
                return tokens
            self.buckets[bucket] = (tokens - cost, now, ttl)
            return None

    def _prune(self, now: float) -> None:
        self.buckets = {key: state for key, state in self.buckets.items() if not state[2] or now - state[1] < state[2]}


_LOCAL = _LocalBuckets()


def _take_on_redis(cache: RedisCache, bucket: str, *, rate: float, burst: int, ttl: int, cost: int) -> float | None:
    key = cache.make_and_validate_key(bucket)
    client = cache._cache.get_client(key, write=True)
    answer = float(client.eval(_TAKE, 1, key, rate, burst, ttl, cost))
    return None if answer < 0 else answer


def _take_in_cache(cache: BaseCache, bucket: str, *, rate: float, burst: int, ttl: int, cost: int) -> float | None:
    now = time.time()
    tokens, updated = cache.get(bucket, (float(burst), now))
    # max(): a clock stepping back between processes must not drain the bucket.
    tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
    if tokens < cost:
        return tokens
    cache.set(bucket, (tokens - cost, now), timeout=ttl or None)
    return None
