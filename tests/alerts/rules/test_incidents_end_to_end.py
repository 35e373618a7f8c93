"""Through the real incidents engine: a firing rule opens one incident by its dedup key, more
firing instances of the same group append to it, and resolving resolves it."""

from datetime import UTC, datetime, timedelta

from alerts.models import Incident, IncidentAlert
from alerts.rules.kinds.metric_threshold import MetricThreshold
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _rule(project, name: str, metric: str, **options):
    return RuleFactory(
        project=project,
        name=name,
        next_evaluation_at=T0,
        auto_resolve=True,
        **options,
        params=MetricThreshold.validate_params(
            {"metric": metric, "agg": "avg", "window_minutes": 1, "operator": "gt", "threshold": 80, "per_series": True}
        ),
    )


def _hosts_breach_in_turn(project, metric: str, **tags: str) -> None:
    """Host a breaches from the first minute, host b joins in the second, both clear in the third."""
    for host, values in (("a", (95, 95, 50)), ("b", (50, 95, 50))):
        series = metric_series(project, metric, {"host": host, **tags})
        for minute, value in enumerate(values):
            put_minute(series, T0 + minute * MINUTE, float(value))


def test_rule_states_drive_one_incident_per_group(project, tick):
    _hosts_breach_in_turn(project, "cpu", pool="web")
    rule = _rule(project, "CPU high", "cpu", group_by=["pool"], severity="critical")

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


def test_rules_grouping_across_rules_share_one_incident_per_label_value(project, tick):
    for metric in ("cpu", "memory", "disk"):
        _hosts_breach_in_turn(project, metric)
    cpu = _rule(project, "CPU high", "cpu", group_by=["host"], group_across_rules=True)
    memory = _rule(project, "Memory high", "memory", group_by=["host"], group_across_rules=True, severity="critical")
    _rule(project, "Disk high", "disk", group_by=["host"])  # groups its own alerts only

    tick(T0 + timedelta(seconds=30))
    host_a = Incident.objects.get(dedup_key=f"group:{project.pk}:host=a")
    assert sorted(a.labels["alertname"] for a in host_a.alerts.all()) == ["CPU high", "Memory high"]
    assert host_a.severity == "critical"  # the worst of its alerts
    assert host_a.rule in (cpu, memory)
    assert Incident.objects.filter(dedup_key__startswith="rule:").count() == 1  # disk, host a

    tick(T0 + MINUTE + timedelta(seconds=30))  # host b: its own shared incident
    host_b = Incident.objects.get(dedup_key=f"group:{project.pk}:host=b")
    assert host_b.alerts.count() == 2 and host_a.alerts.count() == 2

    tick(T0 + 2 * MINUTE + timedelta(seconds=30))  # everything clears
    assert set(Incident.objects.values_list("status", flat=True)) == {"resolved"}
