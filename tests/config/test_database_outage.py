"""A real outage: the connection is pointed at a database that cannot be reached."""

import pytest
from django.db import connection

from tests.factories import make_api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outage():
    saved = dict(connection.settings_dict)

    def start():
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-dir/lookout.sqlite3"
        else:
            connection.settings_dict["PORT"] = "1"  # nothing listens there

    def end():
        connection.close()
        connection.settings_dict.update(saved)

    yield start, end
    end()


def test_admin_and_api_answer_503_during_an_outage_and_recover_without_restart(admin_client, client, outage):
    secret = make_api_token().secret
    start, end = outage
    start()
    admin_down = admin_client.get("/admin/")
    api_down = client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {secret}")
    for response in (admin_down, api_down):
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert "database unavailable" in response.json()["error"]
    end()
    assert admin_client.get("/admin/").status_code == 200
    assert client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
