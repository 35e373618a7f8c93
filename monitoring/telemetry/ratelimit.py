"""A token bucket per ingest key, kept in the shared cache so every web process draws on it.

The bucket refills at TELEMETRY_RATE_PER_SECOND up to TELEMETRY_RATE_BURST; a request
takes one token. The read-then-write is not atomic across processes, so a burst racing
on one key can take a few requests more than its share; what it cannot do is go on
unthrottled, which is what the limit is for.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


class IngestKeyTokenBucket(BaseThrottle):
    def __init__(self):
        self.retry_after = None

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True
        rate, burst = settings.TELEMETRY_RATE_PER_SECOND, settings.TELEMETRY_RATE_BURST
        cache_key = f"telemetry:bucket:{key.pk}"
        now = time.time()
        tokens, updated = cache.get(cache_key, (float(burst), now))
        # max(): a clock stepping back between processes must not drain the bucket.
        tokens = min(float(burst), tokens + max(0.0, now - updated) * rate)
        if tokens < 1:
            self.retry_after = math.ceil((1 - tokens) / rate) if rate > 0 else 60
            return False
        # Kept as long as a full refill takes: an idle key's bucket is full anyway.
        cache.set(cache_key, (tokens - 1, now), timeout=math.ceil(burst / rate) + 1 if rate > 0 else None)
        return True

    def wait(self):
        return self.retry_after
