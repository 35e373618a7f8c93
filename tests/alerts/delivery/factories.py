import factory
from django.utils import timezone

from alerts.delivery.services.outbox import notifications_create
from alerts.models import Channel, Incident, IncidentAlert, IncidentEvent
from tests.alerts.factories import ChannelFactory as BaseChannelFactory


class ChannelFactory(BaseChannelFactory):
    kind = Channel.Kind.WEBHOOK
    config = factory.LazyFunction(dict)
    # Tests only ever talk to the sink on 127.0.0.1.
    allow_private = True


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"API down ({n})")
    severity = "critical"
    dedup_key = factory.Sequence(lambda n: f"rule:1:target={n}")
    labels = factory.LazyFunction(lambda: {"alertname": "TargetDown", "severity": "critical", "target": "api"})
    opened_at = factory.LazyFunction(timezone.now)


class IncidentAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentAlert

    incident = factory.SubFactory(IncidentFactory)
    fingerprint = factory.Sequence(lambda n: f"{n:016x}")
    labels = factory.LazyAttribute(lambda a: a.incident.labels)
    summary = "api.example.com has not answered for 5 minutes"
    severity = "critical"
    starts_at = factory.LazyAttribute(lambda a: a.incident.opened_at)
    last_seen_at = factory.LazyAttribute(lambda a: a.incident.opened_at)


class IncidentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentEvent

    incident = factory.SubFactory(IncidentFactory)
    at = factory.LazyFunction(timezone.now)
    kind = IncidentEvent.Kind.FIRED


def make_notification(channel, *, kind=IncidentEvent.Kind.FIRED, now=None, incident=None):
    """An outbox row through the outbox service, for an incident with one firing alert."""
    now = now or timezone.now()
    if incident is None:
        incident = IncidentFactory(opened_at=now)
        IncidentAlertFactory(incident=incident)
    event = IncidentEventFactory(incident=incident, kind=kind, at=now)
    (notification,) = notifications_create(event=event, channels=[channel], now=now)
    return notification
