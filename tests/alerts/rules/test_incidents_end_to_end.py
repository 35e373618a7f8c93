"""Through the real incidents engine: a firing rule opens one incident by its dedup key, more
firing instances of the same group append to it, and resolving resolves it."""

from datetime import UTC, datetime, timedelta

from alerts.models import Incident, IncidentAlert
from alerts.rules.metric_threshold import MetricThreshold
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_rule_states_drive_one_incident_per_group(project, tick):
    for host, values in (("a", (95, 95, 50)), ("b", (50, 95, 50))):
        series = metric_series(project, "cpu", {"host": host, "pool": "web"})
        for minute, value in enumerate(values):
            put_minute(series, T0 + minute * MINUTE, float(value))
    rule = RuleFactory(project=project, name="CPU high", next_evaluation_at=T0, group_by=["pool"],
                       auto_resolve=True, severity="critical",
                       params=MetricThreshold.validate_params({"metric": "cpu", "agg": "avg", "window_minutes": 1,
                                                               "operator": "gt", "threshold": 80,
                                                               "per_series": True}))

    tick(T0 + timedelta(seconds=30))
    (incident,) = Incident.objects.all()
    assert incident.dedup_key == f"rule:{rule.pk}:web" and incident.rule == rule
    assert incident.status == "triggered" and incident.severity == "critical"
    assert incident.labels["alertname"] == "CPU high" and incident.labels["project"] == "shop"

    tick(T0 + MINUTE + timedelta(seconds=30))  # host b joins the same group: the same incident
    assert Incident.objects.count() == 1
    assert sorted(a.labels["host"] for a in IncidentAlert.objects.filter(incident=incident)) == ["a", "b"]

    tick(T0 + 2 * MINUTE + timedelta(seconds=30))  # both clear
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert set(IncidentAlert.objects.values_list("status", flat=True)) == {"resolved"}
