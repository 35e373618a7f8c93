"""Classification by editable rules: severity, category and should-alert on new issues."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from monitoring.errors.classification import Rule, classify
from monitoring.models import ErrorClassificationRule, ErrorIssue
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_rules():
    """The rules migration 0008 seeds. Seeded again here because tests that commit
    (live server) flush every table, seeded rows included."""
    if not ErrorClassificationRule.objects.exists():
        importlib.import_module("monitoring.migrations.0008_error_classification").seed_rules(apps, None)


def exc(type_, value=""):
    return {"exception": {"values": [{"type": type_, "value": value}]}}


@pytest.mark.parametrize(
    "event,expected",
    [
        (exc("SuspiciousOperation", "bad host"), ("critical", "security", True)),
        (exc("NotAuthenticated", "credentials were not provided"), ("medium", "authentication", False)),
        (
            exc("IntegrityError", 'duplicate key value violates unique constraint "order_pkey"'),
            ("high", "data_integrity", True),
        ),
        (exc("ConnectionError", "Connection refused"), ("high", "network", True)),
        (exc("SoftTimeLimitExceeded"), ("medium", "performance", True)),
        (exc("ValidationError", "email is required"), ("low", "validation", False)),
        ({"message": "upstream request timed out after 30s"}, ("medium", "performance", True)),
    ],
)
def test_the_default_rules_classify_common_errors(event, expected):
    issue = store_event(ProjectFactory(), **event)
    assert (issue.severity, issue.category, issue.should_alert) == expected


def test_an_unmatched_error_stays_unclassified():
    issue = store_event(ProjectFactory(), **exc("ZeroDivisionError", "division by zero"))
    assert (issue.severity, issue.category, issue.should_alert) == ("", "", False)


def test_rules_match_on_tags_and_transaction_and_the_first_match_wins():
    rules = [
        Rule(tag_key="payment", tag_value_pattern="^stripe$", severity="critical", category="network"),
        Rule(transaction_pattern=r"^/checkout", severity="high", category="performance", should_alert=True),
        Rule(type_pattern="Error", severity="low", category="validation"),
    ]
    assert classify({"tags": {"payment": "stripe"}, **exc("KeyError")}, rules).severity == "critical"
    assert classify({"tags": [["payment", "paypal"]], "transaction": "/checkout/pay"}, rules).category == "performance"
    assert classify(exc("KeyError"), rules).category == "validation"
    assert classify({"message": "hi"}, rules) is None


def test_a_project_rule_edited_in_the_admin_applies_to_new_issues(admin_client):
    project = ProjectFactory()
    response = admin_client.post(
        reverse("admin:monitoring_errorclassificationrule_add"),
        {
            "project": project.pk,
            "position": 1,
            "name": "Payments down",
            "enabled": "on",
            "message_pattern": "payment provider",
            "severity": "critical",
            "category": "network",
            "should_alert": "on",
            "type_pattern": "",
            "tag_key": "",
            "tag_value_pattern": "",
            "transaction_pattern": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    issue = store_event(project, message="payment provider unreachable")
    assert (issue.severity, issue.category, issue.should_alert) == ("critical", "network", True)
    other = store_event(ProjectFactory(), message="payment provider unreachable")
    assert other.category == ""  # the rule belongs to the first project only


def test_bad_rules_are_refused_with_the_field_named(admin_client):
    url = reverse("admin:monitoring_errorclassificationrule_add")
    base = {
        "position": 1,
        "name": "x",
        "severity": "low",
        "category": "network",
        "type_pattern": "",
        "tag_key": "",
        "tag_value_pattern": "",
        "transaction_pattern": "",
        "message_pattern": "",
    }
    no_condition = admin_client.post(url, base)
    assert no_condition.status_code == 200 and "at least one condition" in no_condition.content.decode()
    bad_regex = admin_client.post(url, {**base, "type_pattern": "(unclosed"})
    assert "not a valid regular expression" in bad_regex.content.decode()
    assert ErrorClassificationRule.objects.filter(name="x").count() == 0


def test_assigning_in_the_admin_writes_only_the_assignee(admin_client, admin_user):
    project = ProjectFactory()
    issue = store_event(project, message="x")
    stale_count = issue.event_count
    store_event(project, message="x")  # counted after the page was loaded
    response = admin_client.post(
        reverse("admin:monitoring_errorissue_change", args=[issue.pk]), {"assignee": admin_user.pk}
    )
    assert response.status_code == 302
    issue = ErrorIssue.objects.get(pk=issue.pk)
    assert issue.assignee == admin_user
    assert issue.event_count == stale_count + 1


def test_reclassify_applies_an_edited_rule_to_existing_issues(admin_client):
    issue = store_event(ProjectFactory(), **exc("ZeroDivisionError", "division by zero"))
    other = store_event(issue.project, **exc("ValidationError", "email is required"))
    assert issue.category == ""
    ErrorClassificationRule.objects.create(
        name="maths",
        position=1,
        type_pattern="^ZeroDivisionError$",
        severity="high",
        category="data_integrity",
        should_alert=True,
    )
    response = admin_client.post(
        reverse("admin:monitoring_errorissue_changelist"),
        {"action": "reclassify", "_selected_action": [issue.pk, other.pk]},
        follow=True,
    )
    assert "1 issue(s) took a new classification." in response.content.decode()
    issue.refresh_from_db()
    other.refresh_from_db()
    assert (issue.severity, issue.category, issue.should_alert) == ("high", "data_integrity", True)
    assert (other.severity, other.category) == ("low", "validation")  # unchanged: its rule still matches
