"""Security events: the portal's own login lockout is stored as one, with its address,
endpoint, user agent and account, and the admin lists it (read only)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.security.models import SecurityEvent
from monitoring.security.services import security_event_record, security_events_retention_apply

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def test_a_login_lockout_is_stored_as_a_security_event(client, admin_user):
    login = reverse("admin:login")
    for n in range(LIMIT + 1):  # the guess past the limit is refused, not a second lockout
        client.post(
            login,
            {"username": admin_user.username, "password": "wrong"},
            REMOTE_ADDR=f"198.51.100.{n}",
            HTTP_USER_AGENT="curl/8.5",
        )
    [event] = SecurityEvent.objects.all()
    assert (event.kind, event.project, event.ip_address, event.endpoint, event.user_agent, event.user) == (
        "account_lockout",
        None,
        f"198.51.100.{LIMIT - 1}",
        login,
        "curl/8.5",
        admin_user.username,
    )
    assert event.detail == {"failures": LIMIT}


def test_the_admin_lists_security_events_read_only(admin_client):
    security_event_record(
        kind="sql_injection", at=timezone.now(), ip_address="203.0.113.9", endpoint="/search", user="mallory"
    )
    changelist = admin_client.get(reverse("admin:monitoring_securityevent_changelist"), {"kind": "sql_injection"})
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "203.0.113.9" in page and "/search" in page and "SQL-injection attempt" in page
    assert admin_client.get(reverse("admin:monitoring_securityevent_add")).status_code == 403


def test_long_texts_from_a_client_are_cut_to_the_columns():
    event = security_event_record(kind="custom", at=timezone.now(), user_agent="x" * 2000, endpoint="/" + "a" * 900)
    event.refresh_from_db()
    assert len(event.user_agent) == 500 and len(event.endpoint) == 500 and event.ip_address is None


def test_the_security_page_counts_by_kind_address_and_endpoint(admin_client):
    now = timezone.now()
    for ip in ["203.0.113.9"] * 3 + ["198.51.100.4"]:
        security_event_record(kind="sql_injection", at=now, ip_address=ip, endpoint="/search")
    security_event_record(kind="rate_limit", at=now, ip_address="198.51.100.4", endpoint="/api/orders")
    security_event_record(kind="xss", at=now - timedelta(days=2), ip_address="192.0.2.1")  # older than the day

    page = admin_client.get(reverse("admin:monitoring_securityevent_changelist"))
    summary = page.context["security_summary"]
    assert summary.by_kind == [("SQL-injection attempt", 4), ("rate limit exceeded", 1)]
    assert summary.top_addresses == [("203.0.113.9", 3), ("198.51.100.4", 2)]
    assert summary.top_endpoints == [("/search", 4), ("/api/orders", 1)]
    assert 'id="security-summary"' in page.content.decode()


def test_events_past_their_retention_are_forgotten(settings):
    settings.SECURITY_EVENTS_RETENTION_DAYS = 30
    now = timezone.now()
    for days in (31, 29, 0):
        security_event_record(
            kind=SecurityEvent.Kind.SQL_INJECTION, at=now - timedelta(days=days), ip_address="203.0.113.9"
        )

    assert security_events_retention_apply() == 1

    kept = sorted((now - at).days for at in SecurityEvent.objects.values_list("at", flat=True))
    assert kept == [0, 29]
