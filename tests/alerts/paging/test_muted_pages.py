"""A muted incident on the on-call pages says muted and why, whichever of the three mutes it:
a silence, a maintenance window or an inhibition; and its button does not read as a live page."""

import datetime as dt

import pytest
import time_machine

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import InhibitRule, MaintenanceWindow, Silence
from tests.alerts.incidents.factories import T0, RuleFactory, firing
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


def silence(project):
    Silence.objects.create(
        matchers=[{"name": "target", "op": "=", "value": "api"}],
        starts_at=T0 - dt.timedelta(minutes=5),
        ends_at=T0 + dt.timedelta(hours=1),
        comment="moving the API",
    )
    return "silenced until 2026-03-02 10:00 UTC: moving the API"


def maintenance(project):
    MaintenanceWindow.objects.create(
        name="db upgrade", project=project, starts_at=T0 - dt.timedelta(minutes=5), duration_minutes=60
    )
    return "maintenance db upgrade until 2026-03-02 09:55 UTC"


def inhibition(project):
    InhibitRule.objects.create(
        name="critical hides high",
        source_matchers=[{"name": "severity", "op": "=", "value": "critical"}],
        target_matchers=[{"name": "severity", "op": "=", "value": "high"}],
        equal=["target"],
    )
    rule = RuleFactory(name="API unreachable")
    labels = {"project": project.slug, "target": "api"}
    alerts_receive(signals=[firing(rule, severity="critical", labels=labels, fingerprint="fp-crit")], now=T0)
    return "inhibited by critical hides high"


@pytest.mark.parametrize("mute", [silence, maintenance, inhibition])
def test_a_muted_incident_says_why_on_the_on_call_pages(admin_client, mute):
    project = ProjectFactory()
    reason = mute(project)
    rule = RuleFactory(name="API slow")
    labels = {"project": project.slug, "target": "api"}
    (muted,) = alerts_receive(
        signals=[firing(rule, severity="high", labels=labels, summary="api p95 3 s > 2 s")], now=T0
    )

    team = admin_client.get("/oncall/").content.decode()
    row = team[team.index(f"#{muted.pk} api p95 3 s") :].split("</tr>")[0]
    assert "data-muted" in row and reason in row
    assert "Acknowledge anyway</button>" in row and "<button>Acknowledge</button>" not in row
    page = admin_client.get(f"/oncall/incidents/{muted.pk}").content.decode()
    assert "data-muted" in page and f"{reason}" in page
