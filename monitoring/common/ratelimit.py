"""Token buckets in the shared cache, so every web process draws on the same one.

A bucket refills at `rate` tokens a second up to `burst`; a request takes one token. On a
Redis cache the whole take is one Lua script on the server, timed by the server's clock:
atomic across processes and machines, so a burst racing on one key gets exactly its
share. Other caches (the embedded file cache, one machine) read then write, so a burst
racing there can take a few requests more than its share; it cannot go on unthrottled.
"""

import math
import time

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

# With no refill, a drained bucket never fills again: tell the client to come back later.
NO_REFILL_RETRY_SECONDS = 60

# KEYS[1] the bucket; ARGV rate, burst, ttl. Returns -1 when a token was taken, else the
# tokens there are (less than one), so the caller can say how long until the next.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
if tokens < 1 then return tostring(tokens) end
redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'u', tostring(now))
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return '-1'
"""


def token_bucket_take(*, bucket: str, rate: float, burst: int) -> int:
    """Take a token from `bucket`: 0 if one was there, else the seconds until one will be."""
    # Kept as long as a full refill takes: an idle key's bucket is full anyway.
    ttl = math.ceil(burst / rate) + 1 if rate > 0 else 0
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        tokens = _take_on_redis(cache, bucket, rate=rate, burst=burst, ttl=ttl)
    else:
        tokens = _take_in_cache(cache, bucket, rate=rate, burst=burst, ttl=ttl)
    if tokens is None:
        return 0
    return math.ceil((1 - tokens) / rate) if rate > 0 else NO_REFILL_RETRY_SECONDS


def _take_on_redis(cache: RedisCache, bucket: str, *, rate: float, burst: int, ttl: int) -> float | None:
    key = cache.make_and_validate_key(bucket)
    client = cache._cache.get_client(key, write=True)
    answer = float(client.eval(_TAKE, 1, key, rate, burst, ttl))
    return None if answer < 0 else answer


def _take_in_cache(cache: BaseCache, bucket: str, *, rate: float, burst: int, ttl: int) -> float | None:
    now = time.time()
    tokens, updated = cache.get(bucket, (float(burst), now))
    # max(): a clock stepping back between processes must not drain the bucket.
    tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
    if tokens < 1:
        return tokens
    cache.set(bucket, (tokens - 1, now), timeout=ttl or None)
    return None
