"""Error rules route on the issue's classification: categories and a minimum severity pick the
issues, the incident can take the issue's severity, and the classification reaches the
notification as labels. Issues are ingested through the error services, so the seeded
classification rules classify them as they would a real SDK's events."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from alerts.delivery.messages import message_build
from alerts.models import Incident, IncidentEvent
from alerts.rules.examples import EXAMPLES
from alerts.rules.kinds import RULE_KINDS
from monitoring.errors.selectors import error_issues_new
from monitoring.models import ErrorIssue
from tests.alerts.delivery.factories import ChannelFactory, make_notification
from tests.alerts.rules.test_error_kinds import NOW, rule_of
from tests.monitoring.errors.factories import store_event


def error(project, exception_type: str, value: str):
    return store_event(
        project,
        received_at=NOW - timedelta(minutes=1),
        exception={"values": [{"type": exception_type, "value": value}]},
    )


@pytest.fixture
def issues(project):
    """One issue of each kind a team routes differently, as the seeded rules classify them."""
    return {
        "login": error(project, "NotAuthenticated", "login failed: invalid token"),
        "network": error(project, "ConnectionRefusedError", "connection refused to payments:443"),
        "validation": error(project, "ValidationError", "email is required"),
        "plain": error(project, "KeyError", "'basket'"),
    }


def test_the_ingested_issues_are_classified_as_the_rules_route_them(issues):
    classified = {name: (issue.category, issue.severity) for name, issue in issues.items()}
    assert classified == {
        "login": ("authentication", "medium"),
        "network": ("network", "high"),
        "validation": ("validation", "low"),
        "plain": ("", ""),
    }


def test_a_rule_on_some_categories_alerts_only_on_their_issues(project, issues, tick, signals):
    rule_of(project, "error_new_issue", {"window_minutes": 5, "categories": ["authentication", "network"]})
    tick(NOW)
    fired = {s.labels["issue"]: (s.labels["category"], s.labels["issue_severity"]) for s in signals}
    assert fired == {
        issues["login"].title: ("authentication", "medium"),
        issues["network"].title: ("network", "high"),
    }


def test_a_minimum_severity_skips_milder_and_unclassified_issues(project, issues, tick, signals):
    rule_of(project, "error_new_issue", {"window_minutes": 5, "min_severity": "medium"})
    tick(NOW)
    assert sorted(s.labels["issue_id"] for s in signals) == sorted([str(issues["login"].pk), str(issues["network"].pk)])


def test_without_routing_params_every_issue_alerts_and_unclassified_ones_carry_no_empty_labels(
    project, issues, tick, signals
):
    rule_of(project, "error_new_issue", {"window_minutes": 5})
    tick(NOW)
    assert len(signals) == 4
    [plain] = [s for s in signals if s.labels["issue_id"] == str(issues["plain"].pk)]
    assert "category" not in plain.labels and "issue_severity" not in plain.labels


def test_the_incident_takes_the_issues_severity_when_the_rule_says_so(project, issues, tick, signals):
    rule_of(project, "error_new_issue", {"window_minutes": 5, "severity_from_issue": True}, severity="critical")
    tick(NOW)
    severities = {s.labels["issue_id"]: (s.severity, s.labels["severity"]) for s in signals}
    assert severities == {
        str(issues["login"].pk): ("medium", "medium"),
        str(issues["network"].pk): ("high", "high"),
        str(issues["validation"].pk): ("low", "low"),
        str(issues["plain"].pk): ("critical", "critical"),  # unclassified: the rule's own
    }


def test_otherwise_the_incident_keeps_the_rules_severity(project, issues, tick, signals):
    rule_of(project, "error_new_issue", {"window_minutes": 5, "categories": ["validation"]}, severity="critical")
    tick(NOW)
    [signal] = signals
    assert (signal.severity, signal.labels["severity"], signal.labels["issue_severity"]) == (
        "critical",
        "critical",
        "low",
    )


def test_frequency_and_regression_rules_route_the_same_way(project, issues, tick, signals):
    for _ in range(2):
        error(project, "ConnectionRefusedError", "connection refused to payments:443")
        error(project, "ValidationError", "email is required")
    rule_of(project, "error_frequency", {"count": 3, "window_minutes": 5, "categories": ["network"]})
    tick(NOW)
    [signal] = signals
    assert signal.labels["issue_id"] == str(issues["network"].pk) and signal.value == 3

    signals.clear()
    ErrorIssue.objects.filter(pk__in=[i.pk for i in issues.values()]).update(
        is_regression=True, regressed_at=NOW - timedelta(minutes=1)
    )
    rule_of(project, "error_regression", {"window_minutes": 5, "min_severity": "high"})
    tick(NOW + timedelta(seconds=1))
    assert [s.labels["issue_id"] for s in signals if s.labels["alertname"] == "error_regression"] == [
        str(issues["network"].pk)
    ]


def test_the_classification_reaches_the_notification(project, issues, tick):
    rule_of(project, "error_new_issue", {"window_minutes": 5, "categories": ["authentication"]}, severity="critical")
    tick(NOW)  # through the real incidents engine
    incident = Incident.objects.get()
    channel = ChannelFactory(kind="email", config={"to": ["oncall@example.com"]}, name="on-call")
    message = message_build(notification=make_notification(channel, kind=IncidentEvent.Kind.FIRED, incident=incident))
    assert incident.severity == "critical"
    assert "category=authentication" in message.text and "issue_severity=medium" in message.text
    assert all(a.labels["category"] == "authentication" for a in message.alerts)


def test_the_selector_filters_in_its_one_query(project, issues, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = error_issues_new(
            project_id=project.pk,
            since=NOW - timedelta(minutes=5),
            until=NOW,
            categories=["network", "authentication"],
            min_severity="high",
        )
    assert [(i.issue_id, i.category, i.severity) for i in found] == [(issues["network"].pk, "network", "high")]


@pytest.mark.parametrize(
    ("params", "field", "why"),
    [
        ({"categories": ["logins"]}, "categories", "'logins' is not one of"),
        ({"categories": "network"}, "categories", "must be a list"),
        ({"min_severity": "urgent"}, "min_severity", "'urgent' is not one of"),
        ({"severity_from_issue": "yes"}, "severity_from_issue", "true or false"),
    ],
)
@pytest.mark.parametrize("kind", ["error_new_issue", "error_regression", "error_frequency"])
def test_bad_routing_params_are_refused_naming_the_field(kind, params, field, why):
    base = {"count": 5, "window_minutes": 5} if kind == "error_frequency" else {"window_minutes": 5}
    with pytest.raises(ValidationError) as raised:
        RULE_KINDS[kind].validate_params({**base, **params})
    [message] = raised.value.message_dict["params"]
    assert message.startswith(f"{field}:") and why in message


@pytest.mark.django_db
def test_the_editor_offers_the_routing_as_fields():
    fields = RULE_KINDS["error_new_issue"].form_fields(project_id=None)
    assert {"categories", "min_severity", "severity_from_issue"} <= set(fields)
    assert ("authentication", "authentication") in list(fields["categories"].choices)


@pytest.mark.parametrize("key", ["login-errors", "security-errors", "network-timeouts", "classified-errors"])
def test_the_example_routing_rules_are_valid(key):
    example = EXAMPLES[key]
    assert RULE_KINDS[example.kind].validate_params(example.params) == example.params


def test_login_errors_page_and_network_timeouts_only_notify():
    # critical pages; medium goes to the team's channels (alerts.incidents.severity tiers).
    assert EXAMPLES["login-errors"].severity == "critical"
    assert EXAMPLES["login-errors"].params["categories"] == ["authentication"]
    assert EXAMPLES["network-timeouts"].severity == "medium"
    assert EXAMPLES["network-timeouts"].params["categories"] == ["network"]


@pytest.mark.parametrize(
    ("exception_type", "value", "category"),
    [
        ("Error", "Login failed for user bob", "authentication"),
        ("Exception", "invalid credentials", "authentication"),
        ("TimeoutError", "network timeout fetching /api/cart", "network"),
        ("Error", "network timeout", "network"),
        ("TypeError", "Failed to fetch", "network"),
        ("ReadTimeout", "upstream connect timed out", "network"),
        ("TimeoutError", "query took longer than 30 s", "performance"),
    ],
)
def test_the_seeded_rules_put_login_failures_and_network_timeouts_where_they_belong(
    project, exception_type, value, category
):
    assert error(project, exception_type, value).category == category


def test_a_network_timeout_reaches_the_network_rule_not_the_performance_one(project, tick, signals):
    timeout = error(project, "TimeoutError", "network timeout fetching /api/cart")
    rule_of(project, "error_new_issue", {"window_minutes": 5, "categories": ["network"]})
    rule_of(project, "error_new_issue", {"window_minutes": 5, "categories": ["performance"]})
    tick(NOW)
    [signal] = signals
    assert (signal.labels["issue_id"], signal.labels["category"]) == (str(timeout.pk), "network")
