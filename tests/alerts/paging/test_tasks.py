"""The escalation tick as beat runs it: every 10 s, expiring before the next, thin over the service."""

import pytest
import time_machine

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import IncidentEvent
from config.celery import app
from tests.alerts.paging.factories import T0, ChannelFactory, PolicyFactory, firing, make_integration, step


def test_beat_ticks_escalation_every_ten_seconds_and_drops_stale_ticks():
    entry = app.conf.beat_schedule["advance-escalations"]
    assert entry["task"] == "paging.advance_escalations"
    assert entry["schedule"] == 10.0 and entry["options"]["expires"] < entry["schedule"]
    app.loader.import_default_modules()
    assert "paging.advance_escalations" in app.tasks


@pytest.mark.django_db
def test_the_task_pages_due_steps():
    from alerts.paging.tasks import advance_escalations

    policy = PolicyFactory()
    step(policy, channels=[ChannelFactory()])
    integration = make_integration(escalation_policy=policy).integration
    alerts_receive(signals=[firing(integration=integration)], now=T0)
    with time_machine.travel(T0, tick=False):
        assert advance_escalations() == 1
        assert advance_escalations() == 0
    assert IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ESCALATED).count() == 1
