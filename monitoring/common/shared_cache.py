"""The shared cache (Redis, or the embedded file cache) as request paths use it: a read or
write that fails because the cache is away is a miss, never the client's error.

Each process remembers an outage for a few seconds (CACHE_RETRY_SECONDS) and skips the cache
meanwhile, so a dead Redis costs one connect timeout per window, not one per request. The
outage is logged when it starts and when it ends, and each skipped operation is counted in
`lookout_cache_unreachable_total{operation}`.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

from monitoring.metrics.registry import CACHE_UNREACHABLE

logger = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 5.0
# Redis' own errors, and OSError for the file cache (a full or unwritable folder) and for
# sockets the client did not wrap.
CACHE_ERRORS = (RedisError, OSError)


class Outage:
    """Whether the shared cache is being skipped, and until when; one per process and use.
    `doing` says what the process does meanwhile, for the log."""

    def __init__(self, doing: str, log: logging.Logger = logger) -> None:
        self.doing = doing
        self.log = log
        self.until = 0.0
        self.lock = threading.Lock()

    def skipping(self) -> bool:
        return time.monotonic() < self.until

    def started(self, exc: Exception) -> None:
        with self.lock:
            first = self.until == 0.0
            self.until = time.monotonic() + CACHE_RETRY_SECONDS
        if first:
            self.log.warning("%s: the shared cache is unreachable (%s: %s)", self.doing, type(exc).__name__, exc)

    def ended(self) -> None:
        if self.until == 0.0:  # the usual case, without taking the lock
            return
        with self.lock:
            if self.until == 0.0:
                return
            self.until = 0.0
        self.log.warning("the shared cache answers again (was %s)", self.doing)


OUTAGE = Outage("serving without the shared cache")


def _skipped(operation: str, exc: Exception | None = None) -> None:
    if exc is not None:
        OUTAGE.started(exc)
    CACHE_UNREACHABLE.labels(operation).inc()


def cache_get(key: str, default: Any = None) -> Any:
    """The cached value, or `default` when there is none or the cache is unreachable."""
    if OUTAGE.skipping():
        _skipped("get")
        return default
    try:
        value = cache.get(key, default)
    except CACHE_ERRORS as exc:
        _skipped("get", exc)
        return default
    OUTAGE.ended()
    return value


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    """Keep `value` if the cache is reachable; a lost write only costs a later rebuild."""
    if OUTAGE.skipping():
        _skipped("set")
        return
    try:
        cache.set(key, value, timeout)
    except CACHE_ERRORS as exc:
        _skipped("set", exc)
        return
    OUTAGE.ended()


def cache_delete(key: str) -> None:
    """Drop `key` if the cache is reachable. Only for values that also expire on their own:
    one left behind by an outage lives until then."""
    if OUTAGE.skipping():
        _skipped("delete")
        return
    try:
        cache.delete(key)
    except CACHE_ERRORS as exc:
        _skipped("delete", exc)
        return
    OUTAGE.ended()
