import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import ApiToken, Project
from monitoring.projects.services.api_tokens import api_token_authenticate, api_token_revoke
from tests.factories import UserFactory, make_api_token

pytestmark = pytest.mark.django_db
PROJECTS = "/api/v1/projects"


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_only_the_hash_of_a_token_is_stored():
    created = make_api_token()
    row = ApiToken.objects.get(pk=created.token.pk)
    assert row.token_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret not in {row.token_hash, row.prefix, row.name}


def test_read_token_reads_but_cannot_write(client):
    secret = make_api_token(scope="read").secret
    assert client.get(PROJECTS, **bearer(secret)).status_code == 200
    response = client.post(PROJECTS, {"name": "Shop"}, content_type="application/json", **bearer(secret))
    assert response.status_code == 403
    assert "scope" in response.json()["error"]
    assert not Project.objects.exists()


def test_write_token_creates_a_project_with_a_dsn(client):
    secret = make_api_token(scope="write").secret
    response = client.post(
        PROJECTS,
        {"name": "Shop", "environments": ["production", "staging"]},
        content_type="application/json",
        **bearer(secret),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "shop"
    assert body["environments"] == ["production", "staging"]
    assert body["dsn"].endswith(f"/{body['id']}")


def test_bad_project_input_names_the_field(client):
    secret = make_api_token(scope="write").secret
    client.post(PROJECTS, {"name": "Shop"}, content_type="application/json", **bearer(secret))
    duplicate = client.post(PROJECTS, {"name": "Shop"}, content_type="application/json", **bearer(secret))
    assert duplicate.status_code == 400
    assert "slug" in duplicate.json()["fields"]
    nameless = client.post(PROJECTS, {"environments": ["a b"]}, content_type="application/json", **bearer(secret))
    assert nameless.status_code == 400
    assert set(nameless.json()["fields"]) == {"name", "environments"}
    malformed = client.post(PROJECTS, "{not json", content_type="application/json", **bearer(secret))
    assert malformed.status_code == 400
    assert Project.objects.count() == 1


def test_revoked_expired_and_unknown_tokens_get_401(client):
    revoked = make_api_token()
    api_token_revoke(token=revoked.token)
    expired = make_api_token()
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for secret in (revoked.secret, expired.secret, "lkt_unknown", "unknown"):
        response = client.get(PROJECTS, **bearer(secret))
        assert response.status_code == 401
        assert response.json()["error"].startswith("Authorization:")


def test_revoking_again_keeps_the_time_access_ended():
    created = make_api_token()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api_token_revoke(token=created.token)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        api_token_revoke(token=created.token)
    assert created.token.revoked_at == start
    assert ApiToken.objects.get(pk=created.token.pk).revoked_at == start


def test_a_token_of_a_deactivated_user_stops_working(client):
    user = UserFactory()
    secret = make_api_token(user=user).secret
    user.is_active = False
    user.save()
    assert client.get(PROJECTS, **bearer(secret)).status_code == 401


def test_no_credentials_get_401_not_a_login_page(client):
    response = client.get(PROJECTS)
    assert response.status_code == 401


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Bearer lkt_one lkt_two"])
def test_a_malformed_bearer_header_is_401_saying_what_was_expected(client, authorization):
    response = client.get(PROJECTS, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response.json()["error"] == "Authorization: expected 'Bearer <token>'."
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_bearer_scheme_is_read_in_any_case(client):
    secret = make_api_token().secret
    for scheme in ("bearer", "BEARER", "Bearer"):
        assert client.get(PROJECTS, HTTP_AUTHORIZATION=f"{scheme}\t{secret}").status_code == 200


def test_last_used_is_recorded_at_most_once_a_minute():
    created = make_api_token()
    start = timezone.now()
    for seconds, expected in ((0, 0), (30, 0), (61, 61)):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            api_token_authenticate(secret=created.secret)
        assert ApiToken.objects.get(pk=created.token.pk).last_used_at == start + timedelta(seconds=expected)


def test_a_name_whose_slug_overflows_is_a_400_naming_the_name(client):
    secret = make_api_token(scope="write").secret
    response = client.post(PROJECTS, {"name": "x" * 150}, content_type="application/json", **bearer(secret))

    assert response.status_code == 400, response.content
    assert "slug would be 150 characters" in response.json()["fields"]["name"][0]
    assert not Project.objects.exists()
    given_slug = client.post(
        PROJECTS, {"name": "x" * 150, "slug": "x"}, content_type="application/json", **bearer(secret)
    )
    assert given_slug.status_code == 201
