import datetime as dt

import factory

from alerts.incidents.services.incidents import AlertSignal
from alerts.intake.services import integration_create
from alerts.models import EscalationPolicy, EscalationStep, OnCallLayer, OnCallSchedule
from tests.alerts.factories import ChannelFactory  # noqa: F401  (re-exported for the tests here)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallSchedule

    name = factory.Sequence(lambda n: f"schedule-{n}")
    time_zone = "UTC"


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallLayer

    schedule = factory.SubFactory(ScheduleFactory)
    users = factory.LazyFunction(list)
    starts_at = T0
    rotation_seconds = 7 * 86400


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationPolicy

    name = factory.Sequence(lambda n: f"policy-{n}")


def step(policy, *, order=0, delay=0, channels=(), users=(), schedule=None):
    made = EscalationStep.objects.create(policy=policy, order=order, delay_minutes=delay, schedule=schedule)
    made.channels.set(channels)
    made.users.set(users)
    return made


def make_integration(kind="alertmanager", **kwargs):
    kwargs.setdefault("name", f"{kind}-{make_integration.counter}")
    make_integration.counter += 1
    return integration_create(kind=kind, **kwargs)


make_integration.counter = 0


def firing(*, integration=None, dedup_key="ext:1", fingerprint="fp-1", at=T0, severity="high"):
    return AlertSignal(
        source="external",
        fingerprint=fingerprint,
        dedup_key=dedup_key,
        labels={"alertname": "ApiDown", "severity": severity},
        status="firing",
        severity=severity,
        summary="API down",
        at=at,
        integration_id=integration.pk if integration else None,
    )
