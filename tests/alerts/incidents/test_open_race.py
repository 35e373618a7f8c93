"""Two receivers racing to open the same incident leave one open incident with both alerts."""

import threading

import pytest
from django.db import connection

from alerts.incidents.services import incidents as incidents_service
from alerts.incidents.services.incidents import alerts_receive
from alerts.models import Incident, IncidentAlert
from tests.alerts.incidents.factories import T0, RuleFactory, firing


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_receivers_never_open_two_incidents_for_one_key(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL")
    rule = RuleFactory()
    both_looked = threading.Barrier(2, timeout=10)
    original = incidents_service._incident_open

    def open_after_both_looked(**kwargs):
        # Both have found no open incident before either creates one: the race, every time.
        both_looked.wait()
        return original(**kwargs)

    monkeypatch.setattr(incidents_service, "_incident_open", open_after_both_looked)
    errors = []

    def receive(fingerprint):
        try:
            alerts_receive(signals=[firing(rule, fingerprint=fingerprint)], now=T0)
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=receive, args=(f"fp-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    (incident,) = Incident.objects.all()
    assert sorted(IncidentAlert.objects.filter(incident=incident).values_list("fingerprint", flat=True)) == [
        "fp-0",
        "fp-1",
    ]
    assert sorted(incident.events.values_list("kind", flat=True)) == ["appended", "fired"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_tick_skips_an_incident_another_worker_is_notifying():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    import time

    from django.db import transaction

    from alerts.incidents.services.rounds import incidents_notify_due

    (incident,) = alerts_receive(signals=[firing(RuleFactory(group_wait_seconds=0))], now=T0)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Incident.objects.select_for_update().get(pk=incident.pk)  # another worker's round
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert incidents_notify_due(now=T0) == 0
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(10)
    assert incidents_notify_due(now=T0) == 1
