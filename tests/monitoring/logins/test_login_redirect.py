"""After logging in, a person lands on a page of the portal: the `next` they came with when it
is one of ours, else the admin's index (never a 404, never another site)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests/conftest.py's admin_user


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"next": ""},
        {"next": "https://evil.example/"},
        {"next": "//evil.example/admin/"},
        {"next": "javascript:alert(1)"},
    ],
    ids=["no next", "empty", "another site", "scheme-relative", "script"],
)
def test_a_login_without_a_safe_next_lands_on_the_admin_index(client, admin_user, sent):
    response = client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD, **sent})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200


def test_a_login_with_a_next_of_ours_goes_there(client, admin_user):
    incidents = reverse("admin:alerts_incident_changelist")
    response = client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD, "next": incidents})
    assert response["Location"] == incidents
