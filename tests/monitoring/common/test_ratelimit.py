"""The token bucket every ingest limit draws on: exact shares on Redis, refill, waits."""

import logging
import os
import threading
import time
import uuid

import environ
import pytest
from django.core.cache import caches

from monitoring.common import ratelimit, shared_cache
from monitoring.common.ratelimit import token_bucket_take
from tests.processes import free_port

CACHE_URL = os.environ.get("CACHE_URL", "")


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait():
    bucket = f"test:{uuid.uuid4().hex}"
    answers = [token_bucket_take(bucket=bucket, rate=0.5, burst=3) for _ in range(5)]
    assert answers == [0, 0, 0, 2, 2]


@pytest.mark.skipif(not CACHE_URL.startswith("redis"), reason="the atomic bucket needs a Redis cache (CACHE_URL)")
def test_on_redis_racing_processes_take_exactly_the_burst(settings):
    settings.CACHES = {"default": environ.Env.cache_url_config(CACHE_URL)}
    bucket = f"test:{uuid.uuid4().hex}"
    taken = []
    start = threading.Barrier(8)

    def take_many():
        start.wait()
        taken.extend(token_bucket_take(bucket=bucket, rate=0.0, burst=100) == 0 for _ in range(40))

    threads = [threading.Thread(target=take_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        # 320 tries on a bucket of 100 that never refills: 100 get through, not one more.
        assert sum(taken) == 100
    finally:
        caches["default"].delete(bucket)


@pytest.fixture
def cache_outage_reset():
    """The outage window is per process: leave none behind for the next test."""
    yield
    ratelimit._OUTAGE.until = 0.0


def test_an_unreachable_cache_falls_back_to_a_per_process_bucket(settings, caplog, cache_outage_reset):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    bucket = f"test:{uuid.uuid4().hex}"
    before = ratelimit.FALLBACKS._value.get()

    with caplog.at_level(logging.WARNING, logger="monitoring.common.ratelimit"):
        answers = [token_bucket_take(bucket=bucket, rate=0.5, burst=3) for _ in range(5)]

    assert answers == [0, 0, 0, 2, 2]  # still limited, by this process alone
    assert ratelimit.FALLBACKS._value.get() == before + 5
    (line,) = [r.getMessage() for r in caplog.records]  # once per outage, not per request
    assert line.startswith("rate limiting per process: the shared cache is unreachable (ConnectionError")


def test_during_an_outage_the_cache_is_left_alone_then_tried_again(settings, monkeypatch, cache_outage_reset):
    calls = []
    real = ratelimit._take_in_cache

    def unreachable(*args, **kwargs):
        calls.append(1)
        raise ConnectionError("refused")

    monkeypatch.setattr(ratelimit, "_take_in_cache", unreachable)
    for _ in range(3):
        assert token_bucket_take(bucket="test:window", rate=1, burst=10) == 0
    assert len(calls) == 1  # a hanging cache costs one request its timeout, not every one

    monkeypatch.setattr(ratelimit, "_take_in_cache", real)
    monkeypatch.setattr(shared_cache, "CACHE_RETRY_SECONDS", 0.0)
    ratelimit._OUTAGE.until = time.monotonic()  # the window is over
    assert token_bucket_take(bucket="test:window", rate=1, burst=10) == 0
    assert ratelimit._OUTAGE.until == 0.0  # shared again
