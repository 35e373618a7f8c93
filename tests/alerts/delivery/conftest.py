import pytest

from tests.alerts.delivery.sink import serve_sink


@pytest.fixture
def sink():
    with serve_sink() as running:
        yield running


@pytest.fixture(autouse=True)
def _short_outbound_timeout(settings):
    # Nothing here is far away: a test that waits on a server waits 2 s at most.
    settings.ALERTS_OUTBOUND_TIMEOUT_SECONDS = 2.0
