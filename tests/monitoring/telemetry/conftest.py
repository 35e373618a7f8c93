import json

import pytest

from tests.factories import ProjectFactory, make_ingest_key


@pytest.fixture
def project(db):
    return ProjectFactory(telemetry_allowed_origins="https://shop.example")


@pytest.fixture
def ingest_key(project):
    return make_ingest_key(project).key.public_key


@pytest.fixture
def send(client, ingest_key):
    """POST a body to a telemetry endpoint the way a beacon does: JSON as text/plain."""

    def send(path, payload, *, key=ingest_key, content_type="text/plain;charset=UTF-8", **headers):
        body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        return client.post(f"{path}?key={key}", data=body, content_type=content_type, headers=headers)

    return send
