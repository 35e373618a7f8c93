"""A late heartbeat, from the detector that finds it to the incident someone is paged for, and
back: the real ping service, detector, evaluator and incidents engine, nothing copied between them."""

from datetime import UTC, datetime, timedelta

from alerts.models import Incident
from alerts.rules.kinds.heartbeat import HeartbeatProblem
from monitoring.heartbeats.services.pings import Ping, heartbeat_ping, heartbeats_detect
from monitoring.models import HeartbeatPing, Status
from tests.alerts.rules.factories import RuleFactory
from tests.monitoring.uptime.factories import HeartbeatFactory

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_late_nightly_job_opens_an_incident_and_its_ping_resolves_it(project, tick):
    nightly = HeartbeatFactory(
        target__project=project, target__name="nightly-backup", period_seconds=86400, grace_seconds=3600
    )
    ping = Ping(kind=HeartbeatPing.Kind.SUCCESS, at=T0 - timedelta(days=1))
    assert heartbeat_ping(ping_key=nightly.ping_key, ping=ping)
    RuleFactory(
        project=project,
        name="Nightly job late",
        kind=HeartbeatProblem.kind,
        params=HeartbeatProblem.validate_params({"problems": ["late"]}),
        next_evaluation_at=T0,
        interval_seconds=60,
        severity="high",
        auto_resolve=True,
    )

    tick(T0 + timedelta(minutes=5))  # due five minutes ago, but the detector has not looked yet
    assert not Incident.objects.exists()

    assert heartbeats_detect(now=T0 + timedelta(minutes=5)) == 1
    nightly.target.refresh_from_db()
    assert nightly.target.status == Status.DEGRADED and nightly.target.status_changed_at == T0
    tick(T0 + timedelta(minutes=6))
    (incident,) = Incident.objects.all()
    assert incident.status == "triggered" and incident.severity == "high"
    assert incident.labels["alertname"] == "Nightly job late"
    assert incident.labels["target"] == "nightly-backup" and incident.labels["project"] == "shop"

    assert heartbeats_detect(now=T0 + HOUR + timedelta(minutes=1)) == 1  # past the grace: missing, still late
    tick(T0 + HOUR + timedelta(minutes=2))
    assert Incident.objects.get().status == "triggered"

    late_run = Ping(kind=HeartbeatPing.Kind.SUCCESS, at=T0 + HOUR + timedelta(minutes=3))
    assert heartbeat_ping(ping_key=nightly.ping_key, ping=late_run)
    tick(T0 + HOUR + timedelta(minutes=4))
    incident.refresh_from_db()
    assert incident.status == "resolved"
