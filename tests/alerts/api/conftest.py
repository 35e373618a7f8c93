import pytest
from rest_framework.test import APIClient

from tests.factories import make_api_token


def client_for(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    return client


@pytest.fixture
def reader(db) -> APIClient:
    """A viewer's read token: sees everything, changes nothing."""
    return client_for(make_api_token(scope="read", role="viewer"))


@pytest.fixture
def read_admin(db) -> APIClient:
    """An admin's read-scoped token: the scope, not the role, refuses its writes."""
    return client_for(make_api_token(scope="read", role="admin"))


@pytest.fixture
def writer(db) -> APIClient:
    """A manager's write token."""
    return client_for(make_api_token(scope="write", role="manager"))


@pytest.fixture
def viewer_writer(db) -> APIClient:
    """A write-scoped token of a viewer: the token acts as its user, who may not write."""
    return client_for(make_api_token(scope="write", role="viewer"))


def queries_for(client: APIClient, url: str) -> int:
    """Queries of one GET, after a first one has warmed what is kept between requests (the
    token's last use, the custom domains)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
