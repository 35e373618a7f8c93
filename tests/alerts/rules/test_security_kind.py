"""The security_event rule kind: N events of chosen kinds from one address in M minutes,
including the portal's own login lockouts, recorded by a real login through axes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from alerts.models import Incident
from alerts.rules.examples import EXAMPLES
from alerts.rules.kinds import RULE_KINDS
from monitoring.security.services import security_event_record
from tests.alerts.rules.factories import RuleFactory

NOW = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)


def rule_of(project, params, **fields):
    return RuleFactory(
        project=project,
        name="security",
        kind="security_event",
        next_evaluation_at=NOW,
        params=RULE_KINDS["security_event"].validate_params(params),
        **fields,
    )


def record(kind, ip, *, minutes_ago=1, project=None):
    security_event_record(
        kind=kind, at=NOW - timedelta(minutes=minutes_ago), ip_address=ip, endpoint="/login", project_id=project
    )


def test_n_events_of_a_kind_from_one_address_fire_and_clear_when_they_age_out(project, tick, signals):
    for _ in range(3):
        record("sql_injection", "203.0.113.9", project=project.pk)
    record("sql_injection", "198.51.100.1", project=project.pk)  # one only: below N
    record("rate_limit", "203.0.113.9", project=project.pk)  # a kind not chosen
    record("sql_injection", "203.0.113.9", project=None)  # another scope than the rule's project
    rule_of(project, {"kinds": ["sql_injection", "xss"], "count": 3, "window_minutes": 10})

    tick(NOW)
    tick(NOW + timedelta(minutes=10))

    assert [(s.status, s.labels["security_kind"], s.labels["ip_address"], s.value) for s in signals] == [
        ("firing", "sql_injection", "203.0.113.9", 3),
        ("resolved", "sql_injection", "203.0.113.9", 3),
    ]
    assert signals[0].summary == "SQL-injection attempt from 203.0.113.9: 3 events in 10 min (≥ 3)"


def test_a_real_login_lockout_opens_an_incident(client, admin_user, settings, tick):
    settings.AXES_FAILURE_LIMIT = 2
    with time_machine.travel(NOW - timedelta(minutes=2), tick=False):
        for n in range(2):
            client.post(
                reverse("admin:login"),
                {"username": admin_user.username, "password": "wrong"},
                REMOTE_ADDR=f"198.51.100.{n}",
            )
    RuleFactory(
        project=None,
        name="A login lockout",
        kind="security_event",
        next_evaluation_at=NOW,
        params=RULE_KINDS["security_event"].validate_params(EXAMPLES["login-lockout"].params),
        severity="high",
    )
    tick(NOW)  # through the real incidents engine
    incident = Incident.objects.get()
    assert incident.severity == "high"
    assert incident.title == "account lockout from 198.51.100.1: 1 event in 10 min (≥ 1)"


@pytest.mark.parametrize(
    ("params", "field", "why"),
    [
        ({}, "kinds", "non-empty list"),
        ({"kinds": []}, "kinds", "non-empty list"),
        ({"kinds": ["lockout"]}, "kinds", "'lockout' is not one of"),
        ({"kinds": ["xss"], "count": 0}, "count", "at least 1"),
        ({"kinds": ["xss"], "window_minutes": "ten"}, "window_minutes", "whole number"),
        ({"kinds": ["xss"], "per": "user"}, "per", "not a parameter"),
    ],
)
def test_bad_params_are_refused_naming_the_field(params, field, why):
    with pytest.raises(ValidationError) as raised:
        RULE_KINDS["security_event"].validate_params(params)
    [message] = raised.value.message_dict["params"]
    assert message.startswith(f"{field}:") and why in message


@pytest.mark.django_db
def test_the_editor_offers_the_kinds_as_checkboxes():
    fields = RULE_KINDS["security_event"].form_fields(project_id=None)
    assert list(fields) == ["kinds", "count", "window_minutes"]
    assert ("sql_injection", "SQL-injection attempt") in list(fields["kinds"].choices)
