import datetime as dt

import factory

from alerts.incidents.services.incidents import AlertSignal
from alerts.models import AlertRule
from tests.alerts.factories import ChannelFactory  # noqa: F401  (re-exported for the tests here)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"rule-{n}")
    kind = "metric_threshold"
    group_wait_seconds = 30
    group_interval_seconds = 300
    repeat_interval_seconds = 4 * 3600


def firing(rule=None, *, fingerprint="fp-1", dedup_key=None, severity="high", at=T0, labels=None, **kwargs):
    """A firing signal as the rule evaluator sends one."""
    labels = {"alertname": rule.name if rule else "ApiDown", "severity": severity, **(labels or {})}
    return AlertSignal(
        source="rule",
        fingerprint=fingerprint,
        dedup_key=dedup_key or f"rule:{rule.pk if rule else 0}",
        labels=labels,
        status="firing",
        severity=severity,
        summary=kwargs.pop("summary", f"{fingerprint} firing"),
        at=at,
        rule_id=rule.pk if rule else None,
        **kwargs,
    )


def resolved(signal: AlertSignal, *, at=T0) -> AlertSignal:
    return AlertSignal(**{**signal.__dict__, "status": "resolved", "at": at})
