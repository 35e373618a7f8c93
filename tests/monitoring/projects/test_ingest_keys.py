from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring.models import IngestKey
from monitoring.projects.services.ingest_keys import ingest_key_authenticate, ingest_key_revoke
from tests.factories import ProjectFactory, make_ingest_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/ingest/key"


def test_a_key_names_its_project_through_every_way_of_sending_it(client):
    created = make_ingest_key()
    key = created.key
    by_bearer = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key.public_key}")
    by_header = client.get(URL, HTTP_X_LOOKOUT_KEY=key.public_key)
    by_query = client.get(f"{URL}?key={key.public_key}")
    for response in (by_bearer, by_header, by_query):
        assert response.status_code == 200
        assert response.json()["project_id"] == key.project_id
        assert response.json()["dsn"] == key.dsn


@pytest.mark.parametrize("auth", [{}, {"HTTP_X_LOOKOUT_KEY": "0" * 32}, {"HTTP_AUTHORIZATION": "Bearer nope"}])
def test_missing_or_unknown_key_gets_401_json_naming_the_key(client, auth):
    response = client.get(URL, **auth)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("key:")


def test_a_malformed_bearer_header_is_401_even_with_a_key_elsewhere(client):
    key = make_ingest_key().key
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer", HTTP_X_LOOKOUT_KEY=key.public_key)
    assert response.status_code == 401
    assert response.json()["error"] == "key: expected 'Bearer <token>'."


def test_another_scheme_is_passed_over_for_the_key_header(client):
    key = make_ingest_key().key
    response = client.get(URL, HTTP_AUTHORIZATION="Basic cHJveHk6cGFzcw==", HTTP_X_LOOKOUT_KEY=key.public_key)
    assert response.status_code == 200


@pytest.mark.parametrize("raw", ["abc%00def", "%00" * 32, "A" * 32, "0" * 33, "%F0%9F%94%91"])
def test_values_not_shaped_like_a_key_get_401_never_500(client, raw):
    response = client.get(f"{URL}?key={raw}")
    assert response.status_code == 401
    assert response.json()["error"].startswith("key:")


def test_a_revoked_key_gets_401(client):
    key = make_ingest_key().key
    ingest_key_revoke(key=key)
    assert client.get(URL, HTTP_X_LOOKOUT_KEY=key.public_key).status_code == 401


def test_a_key_with_a_secret_requires_it_and_stores_only_its_hash(client):
    created = make_ingest_key(with_secret=True)
    key = created.key
    assert created.secret not in key.secret_hash
    assert client.get(URL, HTTP_X_LOOKOUT_KEY=key.public_key).status_code == 401
    assert client.get(URL, HTTP_X_LOOKOUT_KEY=f"{key.public_key}:wrong").status_code == 401
    assert client.get(URL, HTTP_X_LOOKOUT_KEY=f"{key.public_key}:{created.secret}").status_code == 200


def test_a_key_of_one_project_never_authenticates_as_another():
    one, other = ProjectFactory(), ProjectFactory()
    key = make_ingest_key(project=one).key
    make_ingest_key(project=other)
    assert ingest_key_authenticate(public_key=key.public_key).project == one


def test_last_used_is_recorded_at_most_once_a_minute():
    key = make_ingest_key().key
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ingest_key_authenticate(public_key=key.public_key)
    first = IngestKey.objects.get(pk=key.pk).last_used_at
    assert first == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        ingest_key_authenticate(public_key=key.public_key)
    assert IngestKey.objects.get(pk=key.pk).last_used_at == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        ingest_key_authenticate(public_key=key.public_key)
    assert IngestKey.objects.get(pk=key.pk).last_used_at == start + timedelta(seconds=61)


def test_dsn_has_the_sentry_shape(settings):
    settings.SITE_URL = "https://lookout.example.com"
    key = make_ingest_key().key
    assert key.dsn == f"https://{key.public_key}@lookout.example.com/{key.project_id}"
