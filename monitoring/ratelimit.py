"""Token buckets in the shared cache, so every web process draws on the same one.

A bucket refills at `rate` tokens a second up to `burst`; a request takes one token. The
read-then-write is not atomic across processes, so a burst racing on one key can take a
few requests more than its share; what it cannot do is go on unthrottled.
"""

import math
import time

from django.core.cache import cache

# With no refill, a drained bucket never fills again: tell the client to come back later.
NO_REFILL_RETRY_SECONDS = 60


def token_bucket_take(*, bucket: str, rate: float, burst: int) -> int:
    """Take a token from `bucket`: 0 if one was there, else the seconds until one will be."""
    now = time.time()
    tokens, updated = cache.get(bucket, (float(burst), now))
    # max(): a clock stepping back between processes must not drain the bucket.
    tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
    if tokens < 1:
        return math.ceil((1 - tokens) / rate) if rate > 0 else NO_REFILL_RETRY_SECONDS
    # Kept as long as a full refill takes: an idle key's bucket is full anyway.
    cache.set(bucket, (tokens - 1, now), timeout=math.ceil(burst / rate) + 1 if rate > 0 else None)
    return 0
