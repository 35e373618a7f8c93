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
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from redis.exceptions import RedisError

from monitoring.metrics.registry import CACHE_UNREACHABLE

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_RETRY_SECONDS = 5.0
# Redis' own errors, and OSError for the file cache (a full or unwritable folder) and for
# sockets the client did not wrap.
CACHE_ERRORS = (RedisError, OSError)


class CacheUnreachable(Exception):
    """The shared cache failed, or is being skipped after a recent failure."""


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

    def attempt(self, call: Callable[[], T]) -> T:
        """`call()`'s result; CacheUnreachable if the cache is being skipped or `call` fails
        on it (which starts an outage). A success ends one."""
        if self.skipping():
            raise CacheUnreachable
        try:
            value = call()
        except CACHE_ERRORS as exc:
            self.started(exc)
            raise CacheUnreachable from exc
        self.ended()
        return value

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


def _attempt(operation: str, call: Callable[[], T], default: T) -> T:
    try:
        return OUTAGE.attempt(call)
    except CacheUnreachable:
        CACHE_UNREACHABLE.labels(operation).inc()
        return default


def cache_get(key: str, default: Any = None) -> Any:
    """The cached value, or `default` when there is none or the cache is unreachable."""
    return _attempt("get", lambda: cache.get(key, default), default)


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    """Keep `value` if the cache is reachable; a lost write only costs a later rebuild."""
    _attempt("set", lambda: cache.set(key, value, timeout), None)


def cache_delete(key: str) -> None:
    """Drop `key` if the cache is reachable. Only for values that also expire on their own:
    one left behind by an outage lives until then."""
    _attempt("delete", lambda: cache.delete(key), None)
