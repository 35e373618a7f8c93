"""Alerts open incidents by dedup key; people acknowledge, resolve, reopen and comment."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from alerts.incidents.services.incidents import (
    AlertSignal,
    alerts_receive,
    incident_acknowledge,
    incident_comment,
    incident_reopen,
    incident_resolve,
    incident_snooze,
)
from alerts.models import Incident, IncidentAlert, IncidentEvent
from tests.alerts.incidents.factories import T0, ChannelFactory, RuleFactory, firing, resolved
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def timeline(incident):
    return list(incident.events.values_list("kind", flat=True))


def test_a_firing_rule_opens_an_incident_routed_by_the_rule():
    project = ProjectFactory()
    slack, email = ChannelFactory(), ChannelFactory()
    rule = RuleFactory(
        project=project,
        group_wait_seconds=45,
        group_interval_seconds=120,
        repeat_interval_seconds=3600,
        auto_resolve=False,
    )
    rule.channels.set([slack, email])
    (incident,) = alerts_receive(signals=[firing(rule, project_id=project.pk, summary="API down")], now=T0)
    assert incident.status == Incident.Status.TRIGGERED
    assert incident.title == "API down"
    assert incident.project == project and incident.rule == rule
    assert set(incident.channels.all()) == {slack, email}
    assert incident.next_notify_at == T0 + dt.timedelta(seconds=45)
    assert (incident.group_interval_seconds, incident.repeat_interval_seconds) == (120, 3600)
    assert incident.auto_resolve is False
    assert timeline(incident) == ["fired"]


def test_repeated_firing_appends_to_the_open_incident_instead_of_opening_another():
    rule = RuleFactory()
    alerts_receive(signals=[firing(rule)], now=T0)
    alerts_receive(signals=[firing(rule)], now=T0 + MINUTE)
    alerts_receive(signals=[firing(rule, fingerprint="fp-2")], now=T0 + 2 * MINUTE)
    (incident,) = Incident.objects.all()
    assert incident.alerts.count() == 2
    assert incident.alerts.get(fingerprint="fp-1").last_seen_at == T0 + MINUTE
    assert timeline(incident) == ["fired", "appended"]


def test_explicit_channels_override_the_rule_and_integrations_route_on_their_own():
    rule_channel, meta_channel = ChannelFactory(), ChannelFactory()
    rule = RuleFactory()
    rule.channels.set([rule_channel])
    (incident,) = alerts_receive(signals=[firing(rule, channel_ids=(meta_channel.pk,))], now=T0)
    assert list(incident.channels.all()) == [meta_channel]


def test_incident_severity_is_its_worst_alert():
    rule = RuleFactory()
    (incident,) = alerts_receive(signals=[firing(rule, severity="medium")], now=T0)
    assert incident.severity == "medium"
    (incident,) = alerts_receive(signals=[firing(rule, fingerprint="fp-2", severity="critical")], now=T0 + MINUTE)
    assert incident.severity == "critical"
    (incident,) = alerts_receive(signals=[firing(rule, fingerprint="fp-3", severity="low")], now=T0 + 2 * MINUTE)
    assert Incident.objects.get().severity == "critical"


def test_the_incident_resolves_itself_when_every_alert_has_resolved():
    rule = RuleFactory()
    one, two = firing(rule), firing(rule, fingerprint="fp-2")
    (incident,) = alerts_receive(signals=[one, two], now=T0)
    alerts_receive(signals=[resolved(one, at=T0 + MINUTE)], now=T0 + MINUTE)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
    alerts_receive(signals=[resolved(two, at=T0 + 2 * MINUTE)], now=T0 + 2 * MINUTE)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.resolved_at == T0 + 2 * MINUTE and incident.resolved_by is None
    assert incident.alerts.get(fingerprint="fp-1").ends_at == T0 + MINUTE
    assert timeline(incident) == ["fired", "appended", "resolved"]
    assert incident.events.get(kind="resolved").actor is None


def test_without_auto_resolve_a_person_resolves_it():
    rule = RuleFactory(auto_resolve=False)
    signal = firing(rule)
    (incident,) = alerts_receive(signals=[signal], now=T0)
    alerts_receive(signals=[resolved(signal)], now=T0 + MINUTE)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
    assert incident.alerts.get().status == IncidentAlert.Status.RESOLVED


def test_firing_after_resolution_opens_a_new_incident_and_a_person_can_reopen_the_old_one():
    rule = RuleFactory()
    signal = firing(rule)
    (first,) = alerts_receive(signals=[signal], now=T0)
    alerts_receive(signals=[resolved(signal)], now=T0 + MINUTE)
    (second,) = alerts_receive(signals=[firing(rule, at=T0 + 5 * MINUTE)], now=T0 + 5 * MINUTE)
    assert second.pk != first.pk
    person = UserFactory()
    with pytest.raises(ValidationError, match=f"#{second.pk} is open"):
        incident_reopen(incident=first, actor=person, now=T0 + 6 * MINUTE)
    incident_resolve(incident=second, actor=person, now=T0 + 7 * MINUTE)
    reopened = incident_reopen(incident=first, actor=person, now=T0 + 8 * MINUTE)
    assert reopened.status == Incident.Status.TRIGGERED
    assert reopened.reopened_count == 1 and reopened.resolved_at is None
    assert reopened.next_notify_at == T0 + 8 * MINUTE
    assert reopened.events.last().kind == "reopened" and reopened.events.last().actor == person


def test_a_resolved_alert_firing_again_rejoins_its_open_incident():
    rule = RuleFactory(auto_resolve=False)
    signal = firing(rule)
    alerts_receive(signals=[signal], now=T0)
    alerts_receive(signals=[resolved(signal)], now=T0 + MINUTE)
    (incident,) = alerts_receive(signals=[firing(rule, at=T0 + 2 * MINUTE)], now=T0 + 2 * MINUTE)
    alert = incident.alerts.get()
    assert alert.status == IncidentAlert.Status.FIRING and alert.ends_at is None
    assert alert.starts_at == T0 + 2 * MINUTE
    assert timeline(incident) == ["fired", "appended"]


def test_a_resolved_signal_for_nothing_open_is_ignored():
    assert alerts_receive(signals=[resolved(firing(RuleFactory()))], now=T0) == []
    assert not Incident.objects.exists()


def test_acknowledge_resolve_comment_and_snooze_write_the_timeline_with_who_and_when():
    person = UserFactory()
    (incident,) = alerts_receive(signals=[firing(RuleFactory())], now=T0)
    Incident.objects.filter(pk=incident.pk).update(next_escalation_at=T0 + 5 * MINUTE)
    incident = incident_acknowledge(incident=incident, actor=person, now=T0 + MINUTE)
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.acknowledged_by == person and incident.acknowledged_at == T0 + MINUTE
    assert incident.next_escalation_at is None
    assert incident_acknowledge(incident=incident, actor=person, now=T0 + 2 * MINUTE).acknowledged_at == T0 + MINUTE
    incident_comment(incident=incident, actor=person, message="  rolling back  ", now=T0 + 2 * MINUTE)
    with pytest.raises(ValidationError) as caught:
        incident_comment(incident=incident, actor=person, message=" ", now=T0 + 2 * MINUTE)
    assert "message" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        incident_snooze(incident=incident, actor=person, until=T0, now=T0 + 2 * MINUTE)
    assert "until" in caught.value.message_dict
    incident = incident_snooze(incident=incident, actor=person, until=T0 + 60 * MINUTE, now=T0 + 3 * MINUTE)
    assert incident.snoozed_until == T0 + 60 * MINUTE
    incident = incident_resolve(incident=incident, actor=person, now=T0 + 4 * MINUTE, message="fixed")
    assert incident.resolved_by == person and incident.snoozed_until is None
    events = list(incident.events.all())
    assert [(e.kind, e.actor, e.at) for e in events] == [
        ("fired", None, T0),
        ("acknowledged", person, T0 + MINUTE),
        ("comment", person, T0 + 2 * MINUTE),
        ("snoozed", person, T0 + 3 * MINUTE),
        ("resolved", person, T0 + 4 * MINUTE),
    ]
    assert events[2].message == "rolling back" and events[4].message == "fixed"
    with pytest.raises(ValidationError):
        incident_acknowledge(incident=incident, actor=person, now=T0 + 5 * MINUTE)


def test_an_escalation_policy_is_started_when_the_incident_opens_and_reopens(monkeypatch):
    import sys
    import types

    from alerts.models import EscalationPolicy

    started = []
    fake = types.ModuleType("alerts.paging.services.escalation")
    fake.escalation_start = lambda *, incident, policy, now: started.append((incident.pk, policy.pk, now))
    monkeypatch.setitem(sys.modules, "alerts.paging.services.escalation", fake)
    policy = EscalationPolicy.objects.create(name="primary")
    rule = RuleFactory(escalation_policy=policy)
    (incident,) = alerts_receive(signals=[firing(rule)], now=T0)
    alerts_receive(signals=[firing(rule, fingerprint="fp-2")], now=T0 + MINUTE)
    incident_resolve(incident=incident, actor=None, now=T0 + 2 * MINUTE)
    incident_reopen(incident=incident, actor=None, now=T0 + 3 * MINUTE)
    assert started == [(incident.pk, policy.pk, T0), (incident.pk, policy.pk, T0 + 3 * MINUTE)]
    alerts_receive(signals=[firing(RuleFactory(), dedup_key="no-policy")], now=T0)
    assert len(started) == 2


def test_signals_of_several_keys_in_one_call_each_find_their_incident():
    rule = RuleFactory(group_by=["service"])
    signals = [firing(rule, fingerprint=f"fp-{n}", dedup_key=f"rule:{rule.pk}:{n % 2}") for n in range(4)]
    incidents = alerts_receive(signals=signals, now=T0)
    assert len(incidents) == 2
    assert sorted(i.alerts.count() for i in incidents) == [2, 2]


def test_external_alerts_take_their_routing_from_the_integration():
    from alerts.models import Integration

    channel = ChannelFactory()
    integration = Integration.objects.create(name="am", kind="alertmanager", token_prefix="x", token_hash="h")
    integration.channels.set([channel])
    signal = AlertSignal(
        source="external",
        fingerprint="abc",
        dedup_key="am:group",
        labels={"alertname": "Disk"},
        status="firing",
        severity="medium",
        summary="disk",
        at=T0,
        integration_id=integration.pk,
    )
    (incident,) = alerts_receive(signals=[signal], now=T0)
    assert incident.source == "external" and incident.integration == integration
    assert list(incident.channels.all()) == [channel]
    assert incident.next_notify_at == T0  # Alertmanager already waited
    assert IncidentEvent.objects.filter(incident=incident, kind="fired").exists()
