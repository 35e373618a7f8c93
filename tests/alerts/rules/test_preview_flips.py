"""The preview of the uptime kinds: replayed from the targets' flips over the last 7 days."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from alerts.models import RuleTransition
from alerts.rules.services.preview import rule_preview
from monitoring.models import Flip
from monitoring.uptime.causes import FlipCause
from tests.alerts.rules.factories import RuleFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory


def outage(target, *, start, minutes, cause=FlipCause.CONNECTION_FAILED, status="down"):
    Flip.objects.create(target=target, at=start, old_status="up", new_status=status, reason="refused", cause=cause)
    Flip.objects.create(
        target=target, at=start + timedelta(minutes=minutes), old_status=status, new_status="up", reason="ok"
    )


def test_a_target_rule_fires_once_per_outage_in_its_history(admin_client, project):
    now = timezone.now().replace(second=0, microsecond=0)
    shop = TargetFactory(project=project, name="storefront", status="up")
    TargetFactory(project=project, name="blog", status="up")  # never flipped: up all week
    outage(shop, start=now - timedelta(days=5), minutes=60)
    outage(shop, start=now - timedelta(days=2), minutes=30)
    outage(shop, start=now - timedelta(days=1), minutes=40, status="degraded")  # not watched
    rule = RuleFactory(project=project, kind="target_status", params={"statuses": ["down"]}, for_seconds=0)

    preview = rule_preview(rule=rule, now=now)
    assert preview.supported and preview.fired == 2 and preview.errors == 0
    assert sum(preview.firing) == 6 + 3  # steps of ten minutes inside the two outages

    with time_machine.travel(now + timedelta(seconds=5), tick=False):
        page = admin_client.get(reverse("admin:alerts_alertrule_preview", args=[rule.pk])).content.decode()
    assert "This rule would have fired 2 times in the last 7 days." in page
    assert "No preview" not in page
    assert not RuleTransition.objects.exists()


def test_a_target_down_before_the_week_and_still_down_fires_from_the_start(project):
    now = timezone.now().replace(second=0, microsecond=0)
    api = TargetFactory(project=project, name="api", status="down", status_changed_at=now - timedelta(days=9))
    Flip.objects.create(target=api, at=now - timedelta(days=9), old_status="up", new_status="down", reason="refused")
    rule = RuleFactory(project=project, kind="target_status", params={"statuses": ["down"]}, for_seconds=0)
    preview = rule_preview(rule=rule, now=now)
    assert preview.fired == 1 and all(preview.firing)


def test_a_heartbeat_rule_tells_late_from_failed_runs_in_the_past(project):
    now = timezone.now().replace(second=0, microsecond=0)
    beat = HeartbeatFactory(target__project=project, target__name="nightly", target__status="up").target
    outage(beat, start=now - timedelta(days=6), minutes=60, cause=FlipCause.LATE)
    outage(beat, start=now - timedelta(days=4), minutes=60, cause=FlipCause.EXIT_CODE)
    outage(beat, start=now - timedelta(days=3), minutes=60, cause=FlipCause.MISSING)
    late = RuleFactory(project=project, kind="heartbeat", params={"problems": ["late"]}, for_seconds=0)
    failed = RuleFactory(project=project, kind="heartbeat", params={"problems": ["failed"]}, for_seconds=0)
    assert rule_preview(rule=late, now=now).fired == 2
    assert rule_preview(rule=failed, now=now).fired == 1


def test_targets_that_never_flipped_neither_fire_nor_read_as_no_data(project):
    """Steady targets are answered once (alerts.rules.kinds.targets.replay_samples): the
    steady-down one fires from the start, the steady-up ones never fire, and a week of all
    up is data, not "no data" (which this rule's policy would alert on)."""
    now = timezone.now().replace(second=0, microsecond=0)
    for name in ("a", "b", "c"):
        TargetFactory(project=project, name=name, status="up")
    quiet = RuleFactory(
        project=project, kind="target_status", params={"statuses": ["down"]}, for_seconds=0, no_data_policy="alert"
    )
    preview = rule_preview(rule=quiet, now=now)
    assert preview.fired == 0 and not any(preview.firing) and {v for _, v in preview.points} == {0.0}

    TargetFactory(project=project, name="d", status="down", status_changed_at=now - timedelta(days=30))
    flapping = TargetFactory(project=project, name="e", status="up")
    outage(flapping, start=now - timedelta(days=1), minutes=30)
    preview = rule_preview(rule=quiet, now=now)
    assert preview.fired == 2 and all(preview.firing)  # d from the start, e once
