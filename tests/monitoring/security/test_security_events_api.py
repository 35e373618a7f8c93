"""POST /api/v1/security-events: an application reports attacks with its ingest key."""

import json

import pytest

from monitoring.security.models import SecurityEvent
from tests.factories import ProjectFactory, make_ingest_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory(slug="shop")


@pytest.fixture
def post(client, project):
    key = make_ingest_key(project).key.public_key

    def post(body, *, key=key):
        return client.post(
            "/api/v1/security-events",
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-Lookout-Key": key},
        )

    return post


def test_one_event_or_a_list_is_stored_under_the_keys_project(post, project):
    one = post({"kind": "sql_injection", "ip_address": "203.0.113.9", "endpoint": "/search", "user": "mallory"})
    many = post(
        [
            {"kind": "rate_limit", "ip_address": "2001:db8::1", "user_agent": "bot/1.0"},
            {"kind": "xss", "timestamp": "2026-11-23T09:00:00Z", "detail": {"field": "comment"}},
        ]
    )
    assert (one.status_code, one.json(), many.status_code, many.json()) == (201, {"stored": 1}, 201, {"stored": 2})
    stored = {e.kind: e for e in SecurityEvent.objects.filter(project=project)}
    assert set(stored) == {"sql_injection", "rate_limit", "xss"}
    assert (stored["sql_injection"].endpoint, stored["sql_injection"].user) == ("/search", "mallory")
    assert stored["xss"].at.isoformat() == "2026-11-23T09:00:00+00:00" and stored["xss"].detail == {"field": "comment"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "ddos"}, "kind"),
        ({"ip_address": "1.2.3.4"}, "kind"),
        ({"kind": "xss", "ip_address": "not-an-ip"}, "ip_address"),
        ({"kind": "xss", "timestamp": "2999-01-01T00:00:00Z"}, "timestamp"),
        ({"kind": "xss", "detail": "text"}, "detail"),
        ([{"kind": "xss"}, {"kind": "xss", "endpoint": "/" * 501}], "endpoint"),
    ],
)
def test_bad_events_are_refused_naming_the_field_and_nothing_is_stored(post, body, field):
    answer = post(body)
    assert answer.status_code == 400
    assert field in json.dumps(answer.json())
    assert SecurityEvent.objects.count() == 0


def test_an_empty_or_oversized_batch_is_refused(post):
    assert post([]).status_code == 400
    assert post([{"kind": "xss"}] * 101).status_code == 400
    assert SecurityEvent.objects.count() == 0


def test_an_unknown_key_is_refused(post):
    assert post({"kind": "xss"}, key="nope").status_code == 401
    assert SecurityEvent.objects.count() == 0
