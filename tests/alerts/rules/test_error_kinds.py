"""Error-tracking rules: a new issue, a regression, an issue seen N times in M minutes, a release's health."""

from datetime import UTC, date, datetime, timedelta

from alerts.models import RuleInstance
from alerts.rules.kinds import RULE_KINDS
from monitoring.models import ErrorIssue, Release, ReleaseHealth
from tests.alerts.rules.factories import RuleFactory
from tests.monitoring.errors.factories import store_event

NOW = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)


def rule_of(project, kind, params, **fields):
    return RuleFactory(
        project=project,
        name=kind,
        kind=kind,
        next_evaluation_at=NOW,
        params=RULE_KINDS[kind].validate_params(params),
        **fields,
    )


def test_a_new_issue_fires_once_and_resolves_when_it_leaves_the_window(project, tick, signals):
    store_event(project, received_at=NOW - timedelta(days=1), message="old news")
    issue = store_event(project, received_at=NOW - timedelta(minutes=2), message="Payment failed")
    rule_of(project, "error_new_issue", {"window_minutes": 5})

    tick(NOW)
    tick(NOW + timedelta(minutes=4))  # still new: no second alert
    tick(NOW + timedelta(minutes=5))  # past the window: the alert clears, it is not "no data"

    assert [(s.status, s.labels["issue_id"], s.labels["issue"]) for s in signals] == [
        ("firing", str(issue.pk), "Payment failed"),
        ("resolved", str(issue.pk), "Payment failed"),
    ]


def test_a_regression_fires(project, tick, signals):
    issue = store_event(project, received_at=NOW - timedelta(days=2), message="Back again")
    ErrorIssue.objects.filter(pk=issue.pk).update(is_regression=True, regressed_at=NOW - timedelta(minutes=1))
    rule_of(project, "error_regression", {"window_minutes": 10})
    tick(NOW)
    assert [(s.status, s.labels["issue_id"]) for s in signals] == [("firing", str(issue.pk))]


def test_an_issue_seen_n_times_in_m_minutes(project, tick, signals):
    for seconds in range(0, 600, 60):  # ten events over the last ten minutes
        issue = store_event(project, received_at=NOW - timedelta(seconds=seconds + 1), message="Flood")
    store_event(project, received_at=NOW - timedelta(seconds=5), message="Once")
    rule = rule_of(project, "error_frequency", {"count": 5, "window_minutes": 5})

    tick(NOW)

    [signal] = signals
    assert signal.labels["issue_id"] == str(issue.pk) and signal.value == 5
    assert RuleInstance.objects.get(rule=rule).last_value == 5


def test_release_crash_free_sessions_below_threshold(project, tick, signals):
    Release.objects.create(project=project, version="shop@1.0", first_seen=NOW - timedelta(days=3))
    Release.objects.create(project=project, version="shop@1.1", first_seen=NOW - timedelta(days=1))
    ReleaseHealth.objects.create(project=project, release="shop@1.0", day=date(2026, 11, 22), sessions=1000, crashed=1)
    ReleaseHealth.objects.create(
        project=project, release="shop@1.1", day=date(2026, 11, 23), sessions=1000, crashed=20, errored=30
    )
    latest = rule_of(project, "release_health", {"measure": "crash_free_sessions", "operator": "lt", "threshold": 99.5})
    error_rate = rule_of(
        project,
        "release_health",
        {"release": "shop@1.0", "measure": "session_error_rate", "operator": "gt", "threshold": 1},
    )

    tick(NOW)

    [signal] = signals
    assert signal.rule_id == latest.pk and signal.labels["release"] == "shop@1.1" and signal.value == 98.0
    assert RuleInstance.objects.filter(rule=error_rate).count() == 0  # 0.1 % errors: healthy


def test_too_few_sessions_is_no_data(project, tick, signals):
    Release.objects.create(project=project, version="shop@2", first_seen=NOW)
    ReleaseHealth.objects.create(project=project, release="shop@2", day=date(2026, 11, 23), sessions=5, crashed=5)
    rule = rule_of(project, "release_health", {"threshold": 99, "min_sessions": 100}, no_data_policy="alert")
    tick(NOW)
    assert RuleInstance.objects.get(rule=rule).labels == {"release": "shop@2"}
    assert signals[0].summary == "shop@2 crash free sessions: too few sessions yet (under 100)"
