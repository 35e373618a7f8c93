"""Redis stopped under ingest: every request is still answered as if it were there (0 errors),
rate limits go per process meanwhile, health warns, every point answered 2xx is stored, and
sharing resumes once the skip window has run out after Redis is back.
Status pages answer through the outage too, and are cached again after it."""

import itertools
import time

import pytest

from alerts.status import bodies as status_bodies
from alerts.status import selectors as status_selectors
from alerts.status.services import public_incident_create, status_page_touch
from monitoring.common import ratelimit, shared_cache
from monitoring.telemetry.models import MetricPoint
from monitoring.uptime.probes.base import UP
from tests.alerts.status.factories import ComponentFactory, StatusPageFactory, probe
from tests.factories import ProjectFactory, make_ingest_key
from tests.faults.conftest import record_none

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


def test_ingest_keeps_answering_while_redis_is_down_and_shares_again_after(cache_on, post, client, settings, bench):
    settings.TELEMETRY_RATE_BURST = 40
    settings.TELEMETRY_RATE_PER_SECOND = 0.001
    values = itertools.count(1)
    answers: dict[int, int] = {}  # each point's own value: its answer

    def send() -> int:
        value = next(values)
        answers[value] = post(value).status_code
        return answers[value]

    assert send() == 200
    assert cache_on.client().keys("*telemetry:bucket:*")  # the shared bucket is in use

    cache_on.stop()
    during = [send() for _ in range(60)]

    # 39 tokens were left in the shared bucket; this process alone now grants its own 40.
    assert during.count(200) == 40 and during.count(429) == 20
    health = client.get("/health/ready")
    assert health.status_code == 200
    assert health.json()["checks"]["cache:responseTime"][0]["status"] == "warn"

    cache_on.start()
    back_at = time.monotonic()
    # The skip window is left to run out on its own: how long a process goes on with its own
    # buckets after Redis is back is the figure.
    deadline = back_at + shared_cache.CACHE_RETRY_SECONDS + 5
    while not cache_on.client().keys("*telemetry:bucket:*") and time.monotonic() < deadline:
        send()
        time.sleep(0.05)
    shared_after = time.monotonic() - back_at
    shared = bool(cache_on.client().keys("*telemetry:bucket:*"))

    errors = [status for status in answers.values() if status >= 500]
    accepted = {value for value, status in answers.items() if 200 <= status < 300}
    stored = {int(v) for v in MetricPoint.objects.filter(series__name="m").values_list("value", flat=True)}
    lost = accepted - stored
    record_none(
        bench, "faults: redis down, 5xx answers", len(errors), unit="answers", out_of=len(answers), of="answers in all"
    )
    record_none(
        bench,
        "faults: redis down, 2xx items lost",
        len(lost),
        unit="items",
        out_of=len(accepted),
        of="items answered 2xx",
    )
    bench.record(
        name="faults: redis down, rate limits shared again after its return",
        value=shared_after,
        unit="s",
        baseline="cache retry window",
        baseline_value=shared_cache.CACHE_RETRY_SECONDS,
        goal="reported",
        met=shared,
    )

    assert errors == []
    assert not lost, f"{len(lost)} points answered 2xx are not stored, e.g. {sorted(lost)[:10]}"
    assert shared, f"rate limits were still per process {shared_after:.1f} s after Redis came back"
    assert send() == 200  # the new shared bucket grants again what this process's own had spent
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
