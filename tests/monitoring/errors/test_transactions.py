"""Performance transactions from sentry-sdk become duration and failure points in the metrics store."""

import json
from datetime import timedelta

import pytest
import sentry_sdk
from django.utils import timezone

from monitoring.errors.transactions import InvalidTransaction, transaction_points
from monitoring.models import EnvelopeOutcome, MetricPoint, Project, ReleaseHealth
from monitoring.telemetry.selectors.metrics import query
from monitoring.telemetry.services.rollups import rollups_build


@pytest.fixture
def traced(sdk):
    sdk.options["traces_sample_rate"] = 1.0
    return sdk


@pytest.mark.django_db(transaction=True)
def test_sdk_transactions_give_p50_p95_and_failure_rate_per_transaction(traced):
    durations = [ms / 1000 for ms in range(1, 101)]  # 1 to 100 ms; every tenth one fails
    start = timezone.now() - timedelta(seconds=5)
    for index, seconds in enumerate(durations):
        # Explicit times rather than waiting: the SDK times spans on a monotonic clock.
        tx = sentry_sdk.start_transaction(name="POST /checkout", op="http.server", start_timestamp=start)
        if index % 10 == 9:
            tx.set_status("internal_error")
        tx.finish(end_timestamp=start + timedelta(seconds=seconds))
        if index % 20 == 19:
            # The SDK's transport queue holds 100 envelopes and drops the rest when full.
            traced.flush(timeout=10)
    with sentry_sdk.start_transaction(name="GET /health", op="http.server"):
        pass
    traced.flush(timeout=10)
    rollups_build()

    project = Project.objects.get()
    tags = {"transaction": "POST /checkout"}
    p50 = query(project, "transaction.duration", tags, agg="p50").buckets[0].value
    p95 = query(project, "transaction.duration", tags, agg="p95").buckets[0].value
    failure_rate = query(project, "transaction.failed", tags, agg="avg").buckets[0].value
    assert p50 == pytest.approx(50, rel=0.05)
    assert p95 == pytest.approx(95, rel=0.05)
    assert failure_rate == pytest.approx(0.1)
    assert query(project, "transaction.duration", {"transaction": "GET /health"}, agg="count").buckets[0].value == 1


def test_transactions_without_times_or_name_are_refused():
    now = timezone.now()
    for payload in (
        {"transaction": "x"},
        {"start_timestamp": 1, "timestamp": 2},
        {"transaction": "x", "start_timestamp": 5, "timestamp": 4},
        {"transaction": "x", "start_timestamp": float("-inf"), "timestamp": 4},
    ):
        with pytest.raises(InvalidTransaction):
            transaction_points(payload, received_at=now, max_lateness=timedelta(days=1))


def test_a_transaction_older_than_the_metrics_store_accepts_is_placed_at_receipt():
    now = timezone.now()
    old = (now - timedelta(days=3)).timestamp()
    points = transaction_points(
        {"transaction": "x", "start_timestamp": old - 1, "timestamp": old},
        received_at=now,
        max_lateness=timedelta(days=1),
    )
    assert [p.timestamp for p in points] == [now, now]
    assert points[0].value == pytest.approx(1000)


@pytest.mark.django_db
def test_a_bad_transaction_is_dropped_and_the_session_beside_it_kept(client, ingest_key):
    session = {"sid": "a" * 32, "did": "u1", "status": "exited", "init": True, "attrs": {"release": "1.0"}}
    body = (
        b'{}\n{"type":"transaction"}\n'
        + json.dumps({"transaction": "x"}).encode()
        + b'\n{"type":"session"}\n'
        + json.dumps(session).encode()
        + b"\n"
    )
    response = client.generic(
        "POST",
        f"/api/{ingest_key.project_id}/envelope/?sentry_key={ingest_key.public_key}",
        body,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200
    assert not MetricPoint.objects.exists()
    assert ReleaseHealth.objects.get().sessions == 1
    assert (EnvelopeOutcome.objects.get().category, EnvelopeOutcome.objects.get().reason) == ("transaction", "invalid")


@pytest.mark.django_db
def test_transactions_over_the_projects_series_limit_are_dropped_and_counted(client, ingest_key):
    project = ingest_key.project
    project.telemetry_max_series = 2  # one transaction name makes two series
    project.save()

    def send(name):
        body = (
            b'{}\n{"type":"transaction"}\n'
            + json.dumps({"transaction": name, "start_timestamp": 1.0e9, "timestamp": 1.0e9 + 0.5}).encode()
            + b"\n"
        )
        response = client.generic(
            "POST",
            f"/api/{project.pk}/envelope/?sentry_key={ingest_key.public_key}",
            body,
            content_type="application/x-sentry-envelope",
        )
        assert response.status_code == 200

    send("GET /a")
    send("GET /b")
    assert MetricPoint.objects.count() == 2
    assert (EnvelopeOutcome.objects.get().category, EnvelopeOutcome.objects.get().reason) == (
        "transaction",
        "cardinality",
    )
