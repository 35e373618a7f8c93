"""A project's day as a team lives it: probes, an SLO, incidents, errors, vitals and a backup."""

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from pyrage import x25519

from alerts.models import AlertRule, DigestSubscription, Incident
from alerts.rules.kinds.slo_burn_rate import SloBurnRate
from backups.models import Plan, Run, Status
from monitoring.errors.tasks import fold_error_issues
from monitoring.models import ErrorIssue, ProbeResult
from monitoring.projects.roles import VIEWER, role_assign
from monitoring.telemetry.payloads import PointIn
from monitoring.telemetry.services.ingest import telemetry_ingest
from monitoring.telemetry.services.rollups import rollups_build
from monitoring.uptime.probes.base import DOWN, UP
from monitoring.uptime.services.rollups import rollups_advance
from tests.factories import ProjectFactory, UserFactory
from tests.monitoring.errors.factories import store_event
from tests.monitoring.uptime.factories import TargetFactory

# A Wednesday morning: the daily digest is about Tuesday 17 Nov, the weekly one about 9–15 Nov.
NOW = dt.datetime(2026, 11, 18, 6, 0, tzinfo=dt.UTC)
DAY = dt.datetime(2026, 11, 17, tzinfo=dt.UTC)


def minute_probes(target, *, start, minutes, down=()):
    """One probe a minute from `start`; the minutes in `down` (offsets) failed."""
    down = set(down)
    ProbeResult.objects.bulk_create(
        ProbeResult(
            target_id=target.pk,
            checked_at=start + dt.timedelta(minutes=i),
            outcome=DOWN if i in down else UP,
            latency_ms=10_000 if i in down else 120,
        )
        for i in range(minutes)
    )


def incident(project, title, *, opened, ack_after, resolve_after):
    return Incident.objects.create(
        project=project,
        title=title,
        dedup_key=f"test:{title}",
        severity="high",
        status=Incident.Status.RESOLVED,
        opened_at=opened,
        acknowledged_at=opened + ack_after,
        resolved_at=opened + resolve_after,
    )


@pytest.fixture
def shop(db, settings):
    """The "Shop" project with Tuesday's facts; its readers are alice (daily) and bob (weekly)."""
    settings.SITE_URL = "https://lookout.example.com"
    project = ProjectFactory(name="Shop", slug="shop")
    checkout = TargetFactory(project=project, name="Checkout API")
    search = TargetFactory(project=project, name="Search")
    # Checkout failed 36 minutes (97.5 %), Search 2 minutes (99.861 %), out of 1440 each.
    minute_probes(checkout, start=DAY, minutes=1440, down=range(600, 636))
    minute_probes(search, start=DAY, minutes=1440, down=(900, 901))
    rollups_advance(now=NOW)
    rule = AlertRule.objects.create(
        project=project,
        name="Checkout availability",
        kind="slo_burn_rate",
        params=SloBurnRate.validate_params(
            {"sli": "availability_uptime", "objective": 95, "preset": "page", "target_ids": [checkout.pk]}
        ),
    )
    incident(
        project,
        "Checkout API down",
        opened=DAY + dt.timedelta(hours=10, minutes=1),
        ack_after=dt.timedelta(minutes=4),
        resolve_after=dt.timedelta(minutes=36),
    )
    incident(
        project,
        "Search slow",
        opened=DAY + dt.timedelta(hours=14),
        ack_after=dt.timedelta(minutes=10),
        resolve_after=dt.timedelta(minutes=60),
    )
    new = store_event(project, message="PaymentDeclined: card expired", received_at=DAY + dt.timedelta(hours=12))
    store_event(project, message="PaymentDeclined: card expired", received_at=DAY + dt.timedelta(hours=13))
    old = store_event(project, message="Cart total is NaN", received_at=DAY - dt.timedelta(days=10))
    with time_machine.travel(NOW, tick=False):
        fold_error_issues()
        # The fold marks a resolved issue's comeback as a regression; this is what it writes.
        ErrorIssue.objects.filter(pk=old.pk).update(is_regression=True, regressed_at=DAY + dt.timedelta(hours=9))
        # LCP: half the loads at 1.8 s, half at 3.2 s, so p75 is over the 2.5 s budget.
        telemetry_ingest(
            project=project,
            points=[
                PointIn(name="vitals.LCP", value=v, timestamp=DAY + dt.timedelta(hours=12), tags={"route": "/cart"})
                for v in [1800] * 20 + [3200] * 20
            ],
        )
        while rollups_build():
            pass
    plan = Plan(name="portal", recipients=str(x25519.Identity.generate().to_public()))
    plan.full_clean()
    plan.save()
    Run.objects.create(
        plan=plan,
        kind="database",
        format="sqlite",
        storage="local",
        status=Status.SUCCEEDED,
        started_at=NOW - dt.timedelta(hours=4),
        finished_at=NOW - dt.timedelta(hours=4) + dt.timedelta(minutes=1),
        stored_bytes=1000,
    )
    alice = UserFactory(username="alice", email="alice@example.com", is_staff=True, first_name="Alice")
    bob = UserFactory(username="bob", email="bob@example.com", is_staff=True)
    for reader in (alice, bob):
        role_assign(user=reader, role=VIEWER)
    DigestSubscription.objects.create(user=alice, project=project, cadence="daily")
    DigestSubscription.objects.create(user=bob, project=project, cadence="weekly")
    return SimpleNamespace(
        project=project, checkout=checkout, search=search, rule=rule, new=new, old=old, alice=alice, bob=bob
    )
