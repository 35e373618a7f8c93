"""Redis stopped under ingest: every request is still answered as if it were there (0 errors),
rate limits go per process meanwhile, health warns, and sharing resumes when it is back."""

import pytest

from monitoring.common import ratelimit
from tests.factories import ProjectFactory, make_ingest_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_on(settings, redis_server, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    monkeypatch.setattr(ratelimit, "_OUTAGE", ratelimit._Outage())
    monkeypatch.setattr(ratelimit, "_LOCAL", ratelimit._LocalBuckets())
    return redis_server


@pytest.fixture
def post(client):
    key = make_ingest_key(ProjectFactory()).key.public_key

    def post(value=1):
        return client.post(
            "/api/v1/metrics",
            {"name": "m", "value": value},
            content_type="application/json",
            headers={"X-Lookout-Key": key},
        )

    return post


def test_ingest_keeps_answering_while_redis_is_down_and_shares_again_after(
    cache_on, post, client, settings, monkeypatch
):
    settings.TELEMETRY_RATE_BURST = 40
    settings.TELEMETRY_RATE_PER_SECOND = 0.001
    assert post().status_code == 200
    assert cache_on.client().keys("*telemetry:bucket:*")  # the shared bucket is in use

    cache_on.stop()
    answers = [post(value).status_code for value in range(60)]

    # 39 tokens were left in the shared bucket; this process alone now grants its own 40.
    assert answers.count(200) == 40 and answers.count(429) == 20
    assert [code for code in answers if code >= 500] == []
    health = client.get("/health/ready")
    assert health.status_code == 200
    assert health.json()["checks"]["cache:responseTime"][0]["status"] == "warn"

    cache_on.start()
    monkeypatch.setattr(ratelimit, "CACHE_RETRY_SECONDS", 0.0)
    ratelimit._OUTAGE.until = 1.0  # the skip window has passed
    assert post().status_code == 200
    assert cache_on.client().keys("*telemetry:bucket:*")  # shared again
    assert client.get("/health/ready").json()["status"] == "pass"
