import datetime as dt

import factory
from django.utils import timezone

from alerts.models import Component, ComponentGroup, StatusPage
from monitoring.models import TargetRollup
from monitoring.uptime.probes.base import ProbeOutcome
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.services.results import probe_results_record
from monitoring.uptime.services.rollups import floor_time, latency_bucket
from tests.monitoring.uptime.factories import TargetFactory


class StatusPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusPage

    slug = factory.Sequence(lambda n: f"page-{n}")
    title = factory.Sequence(lambda n: f"Acme status {n}")


class ComponentGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComponentGroup

    page = factory.SubFactory(StatusPageFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    page = factory.SubFactory(StatusPageFactory)
    name = factory.Sequence(lambda n: f"Component {n}")
    target = factory.SubFactory(TargetFactory, down_after_failures=1)


def probe(target, outcome: int, *, latency_ms: int = 120, at: dt.datetime | None = None) -> None:
    """Record one probe result through the probe engine's own writer (status, debounce, flips)."""
    error = "" if outcome == 1 else "connection refused"
    probe_results_record(
        region="local",
        probed=[Probed(target.pk, at or timezone.now(), ProbeOutcome(outcome, latency_ms, error=error))],
    )


def daily_rollups(target, uptimes: list[float | None], *, now: dt.datetime | None = None, latency_ms: int = 120):
    """Closed days ending yesterday, oldest first, with the given uptime % (None: no row)."""
    today = floor_time(now or timezone.now(), 86400)
    rows = []
    for back, pct in enumerate(reversed(uptimes), start=1):
        if pct is None:
            continue
        count = 10_000
        up = round(count * pct / 100)
        rows.append(
            TargetRollup(
                target_id=target.pk,
                resolution=86400,
                bucket_start=today - dt.timedelta(days=back),
                count=count,
                up_count=up,
                degraded_count=0,
                latency_count=up,
                latency_sum=up * latency_ms,
                latency_min=latency_ms,
                latency_max=latency_ms,
                histogram={str(latency_bucket(latency_ms)): up},
            )
        )
    TargetRollup.objects.bulk_create(rows)
