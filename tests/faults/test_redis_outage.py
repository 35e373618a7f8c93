"""Redis stopped under ingest: every request is still answered as if it were there (0 errors),
rate limits go per process meanwhile, health warns, and sharing resumes when it is back.
Status pages answer through the outage too, and are cached again after it."""

import pytest

from alerts.status import bodies as status_bodies
from alerts.status import selectors as status_selectors
from alerts.status.services import public_incident_create, status_page_touch
from monitoring.common import ratelimit, shared_cache
from monitoring.uptime.probes.base import UP
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory, probe
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
    monkeypatch.setattr(ratelimit, "_OUTAGE", shared_cache.Outage("rate limiting per process", ratelimit.logger))
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
    monkeypatch.setattr(shared_cache, "CACHE_RETRY_SECONDS", 0.0)
    ratelimit._OUTAGE.until = 1.0  # the skip window has passed
    assert post().status_code == 200
    assert cache_on.client().keys("*telemetry:bucket:*")  # shared again
    assert client.get("/health/ready").json()["status"] == "pass"


def test_status_pages_answer_while_redis_is_down_and_cache_again_after(cache_on, client):
    page = StatusPageFactory(title="Acme Cloud")
    api = ComponentFactory(page=page, name="Public API")
    probe(api.target, UP)
    url = f"/status/{page.slug}/"
    before = client.get(url)
    assert before.status_code == 200 and cache_on.client().keys("*status:html:*")

    cache_on.stop()
    # This process still holds the page; a process that does not (forgotten here) renders it.
    assert client.get(url).content == before.content
    status_bodies.forget_local()
    status_selectors.forget_pages()
    for path in ("", "api/v2/summary.json", f"badge/{api.pk}/status.svg"):
        assert client.get(url + path).status_code == 200, path
    public_incident_create(page=page, name="Cache is down", body="Investigating.", components=[api])
    assert "Cache is down" in client.get(url).content.decode()

    cache_on.start()
    shared_cache.OUTAGE.until = 1.0  # the skip window has passed
    cache_on.client().flushdb()
    status_page_touch(page_id=page.pk)
    assert client.get(url).status_code == 200
    assert cache_on.client().keys("*status:html:*")  # shared again
