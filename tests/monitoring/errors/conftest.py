import pytest

from tests.factories import make_ingest_key


@pytest.fixture
def ingest_key(db):
    return make_ingest_key().key


@pytest.fixture
def envelope_url(ingest_key):
    return f"/api/{ingest_key.project_id}/envelope/"
