import math

import pytest
import sentry_sdk

from monitoring.errors.services import events as error_events
from monitoring.projects.services import ingest_keys
from tests.factories import make_ingest_key


@pytest.fixture(autouse=True)
def _fold_after_every_event(settings, monkeypatch):
    """Counters current after each event, so tests read them at once; the default
    interval's batching has a test of its own (test_issue_lifecycle)."""
    settings.ERRORS_FOLD_INTERVAL_SECONDS = 0
    # Per-process memories of rows written: rolled-back tests must not leave them behind.
    monkeypatch.setattr(error_events, "_last_fold", -math.inf)
    error_events._known_users.clear()
    error_events._issue_of_hash.clear()
    error_events._known_releases.clear()
    ingest_keys._active.clear()


@pytest.fixture
def ingest_key(db):
    return make_ingest_key().key


@pytest.fixture
def envelope_url(ingest_key):
    return f"/api/{ingest_key.project_id}/envelope/"


@pytest.fixture
def sdk(live_server, ingest_key):
    """A sentry-sdk client on a DSN for the key's project, bound to a scope of its own, with
    the SDK's default HTTP transport (gzip bodies, its own worker thread)."""
    host = live_server.url.split("://", 1)[1]
    client = sentry_sdk.Client(
        dsn=f"http://{ingest_key.public_key}@{host}/{ingest_key.project_id}",
        release="shop@1.4.2",
        environment="staging",
        default_integrations=False,
    )
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        yield client
    client.close(timeout=5)
