"""Uptime rules: a target down or degraded, a certificate expiring, a heartbeat late, failed or over runtime."""

from datetime import UTC, datetime, timedelta

from alerts.models import RuleInstance
from alerts.rules.kinds import RULE_KINDS
from monitoring.heartbeats.services.pings import Ping, heartbeat_ping, heartbeats_detect
from monitoring.models import Flip, Heartbeat, HeartbeatPing, Tag
from tests.alerts.rules.factories import RuleFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

NOW = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)


def rule_of(project, kind, params, **fields):
    return RuleFactory(
        project=project,
        name="API down",
        kind=kind,
        next_evaluation_at=NOW,
        params=RULE_KINDS[kind].validate_params(params),
        **fields,
    )


def test_api_down_for_five_minutes_pages_one_alert_per_target(project, tick, signals):
    api = TargetFactory(project=project, name="API", status="down", status_changed_at=NOW)
    TargetFactory(project=project, name="Web", status="up")
    TargetFactory(project=project, name="New", status="unknown")
    rule_of(project, "target_status", {"statuses": ["down"]}, for_seconds=300, severity="critical")

    for minute in range(6):
        tick(NOW + timedelta(minutes=minute))

    [signal] = signals
    assert signal.status == "firing" and signal.at == NOW + timedelta(minutes=5)
    assert signal.severity == "critical"
    assert {k: signal.labels[k] for k in ("target_id", "target", "project")} == {
        "target_id": str(api.pk),
        "target": "API",
        "project": "shop",
    }


def test_degraded_counts_only_when_asked_and_tags_narrow_the_targets(project, tick, signals):
    payments = Tag.objects.create(name="payments")
    slow = TargetFactory(project=project, name="Pay", status="degraded")
    slow.tags.add(payments)
    TargetFactory(project=project, name="Blog", status="degraded")
    down_only = rule_of(project, "target_status", {"statuses": ["down"], "tag": "payments"})
    rule_of(project, "target_status", {"statuses": ["down", "degraded"], "tag": "payments"})

    tick(NOW)

    assert [s.labels["target"] for s in signals] == ["Pay"]
    assert not RuleInstance.objects.filter(rule=down_only).exists()


def test_a_target_coming_back_resolves(project, tick, signals):
    api = TargetFactory(project=project, name="API", status="down")
    rule_of(project, "target_status", {"target_ids": [api.pk]})
    tick(NOW)
    api.status = "up"
    api.save()
    tick(NOW + timedelta(minutes=1))
    assert [s.status for s in signals] == ["firing", "resolved"]


def test_a_certificate_expiring_within_the_days(project, tick, signals):
    TargetFactory(
        project=project,
        name="Soon",
        kind="tls",
        host="soon.example",
        status="up",
        cert_expires_at=NOW + timedelta(days=5),
    )
    TargetFactory(
        project=project,
        name="Later",
        kind="tls",
        host="later.example",
        status="up",
        cert_expires_at=NOW + timedelta(days=60),
    )
    rule = rule_of(project, "certificate_expiry", {"days": 14})

    tick(NOW)

    [signal] = signals
    assert signal.labels["target"] == "Soon" and signal.value == 5.0
    assert RuleInstance.objects.get(rule=rule).last_value == 5.0


def _heartbeat(project, name: str, **schedule) -> Heartbeat:
    return HeartbeatFactory(target__project=project, target__name=name, **schedule)


def _ping(heartbeat: Heartbeat, at: datetime, kind: int = HeartbeatPing.Kind.SUCCESS, exit_code: int | None = None):
    assert heartbeat_ping(ping_key=heartbeat.ping_key, ping=Ping(kind=kind, at=at, exit_code=exit_code))


def test_heartbeats_late_failed_or_over_runtime_by_the_cause_they_flipped(project, tick, signals):
    # Every status below comes from the ping service and the detector, as in production.
    day = timedelta(days=1)
    _ping(_heartbeat(project, "late-job"), NOW - day - timedelta(minutes=30))  # due 30 min ago, grace 1 h
    _ping(_heartbeat(project, "missing-job"), NOW - day - timedelta(hours=2))  # due 2 h ago: past grace
    _ping(_heartbeat(project, "failed-job"), NOW - timedelta(minutes=1), HeartbeatPing.Kind.FAIL, exit_code=2)
    _ping(_heartbeat(project, "fail-ping-job"), NOW - timedelta(minutes=1), HeartbeatPing.Kind.FAIL)
    quick = _heartbeat(project, "quick-job", min_runtime_seconds=60)
    _ping(quick, NOW - timedelta(minutes=2), HeartbeatPing.Kind.START)
    _ping(quick, NOW - timedelta(minutes=2) + timedelta(seconds=5))
    slow = _heartbeat(project, "slow-job", max_runtime_seconds=600)
    _ping(slow, NOW - timedelta(minutes=20), HeartbeatPing.Kind.START)
    _ping(slow, NOW - timedelta(minutes=5))  # took 900 s
    _ping(
        _heartbeat(project, "stuck-job", max_runtime_seconds=600), NOW - timedelta(minutes=20), HeartbeatPing.Kind.START
    )
    _ping(_heartbeat(project, "fine-job"), NOW - timedelta(minutes=1))
    TargetFactory(project=project, name="not a heartbeat", status="down")
    heartbeats_detect(now=NOW)
    # What people read plays no part in what the rule decides.
    Flip.objects.update(reason="")
    rules = {
        problem: rule_of(project, "heartbeat", {"problems": [problem]})
        for problem in ("late", "failed", "over_runtime")
    }

    tick(NOW)

    fired = {(s.rule_id, s.labels["target"]) for s in signals}
    assert fired == {
        (rules["late"].pk, "late-job"),
        (rules["late"].pk, "missing-job"),
        (rules["failed"].pk, "failed-job"),
        (rules["failed"].pk, "fail-ping-job"),
        (rules["failed"].pk, "quick-job"),
        (rules["over_runtime"].pk, "slow-job"),
        (rules["over_runtime"].pk, "stuck-job"),
    }


def test_a_down_target_s_alert_says_why_in_words(project, tick, signals):
    # The reason the probes wrote when the target flipped is what the person on call reads,
    # not "target down; value 1 (project=…, target_id=…)".
    api = TargetFactory(project=project, name="storefront", status="down", status_changed_at=NOW)
    Flip.objects.create(
        target=api,
        at=NOW,
        old_status="up",
        new_status="down",
        cause="connection_failed",
        reason="down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)",
    )
    rule_of(project, "target_status", {"statuses": ["down"]})

    tick(NOW)

    [signal] = signals
    assert signal.summary == "storefront down: connection refused to 127.0.0.1:8199 (2 of 2 probes failed)"
