"""A token bucket per ingest key for error ingest, kept in the shared cache so every web
process draws on the same one.

The bucket refills at ERRORS_RATE_PER_SECOND up to ERRORS_RATE_BURST; an envelope takes
one token. Read-then-write is not atomic across processes: a burst racing on one key may
get a few envelopes more than its share, but cannot go on unthrottled.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache


def rate_limit_wait(*, key_id: int) -> int:
    """0 if the key may send now (taking a token), else the seconds until it may."""
    rate, burst = settings.ERRORS_RATE_PER_SECOND, settings.ERRORS_RATE_BURST
    if rate <= 0:
        return 0  # no limit configured
    cache_key = f"errors:bucket:{key_id}"
    now = time.time()
    tokens, updated = cache.get(cache_key, (float(burst), now))
    # max(): a clock stepping back between processes must not drain the bucket.
    tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
    if tokens < 1:
        return max(1, math.ceil((1 - tokens) / rate))
    # Kept as long as a full refill takes: an idle key's bucket is full anyway.
    cache.set(cache_key, (tokens - 1, now), timeout=math.ceil(burst / rate) + 1)
    return 0
