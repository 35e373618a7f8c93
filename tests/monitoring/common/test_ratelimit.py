"""The token bucket every ingest limit draws on: exact shares on Redis, refill, waits."""

import os
import threading
import uuid

import environ
import pytest
from django.core.cache import caches

from monitoring.common.ratelimit import token_bucket_take

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
