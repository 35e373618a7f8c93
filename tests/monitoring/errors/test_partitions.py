"""A new day's partition, made by whichever requests store the day's first events at once."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from monitoring.errors.partitions import events
from monitoring.models import ErrorEvent
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

NEW_DAY = datetime(2031, 3, 4, 0, 0, 1, tzinfo=UTC)  # no beat task has made its partition ahead
REQUESTS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_events_of_a_day_are_all_stored():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    drop_the_day()  # a database kept from an earlier run (--reuse-db) has it
    project = ProjectFactory()
    start, failures = threading.Barrier(REQUESTS), []

    def request(n):
        try:
            start.wait(10)
            # One issue each, so every request takes the path that creates its issue.
            store_event(project, received_at=NEW_DAY, message=f"first of the day {n}")
        except Exception as error:  # noqa: BLE001 what a web worker would answer 500 for
            failures.append(repr(error))
        finally:
            connection.close()

    # Each thread stands for a web worker whose process has not seen the day yet.
    threads = [threading.Thread(target=request, args=(n,)) for n in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    try:
        assert failures == []
        assert ErrorEvent.objects.filter(timestamp=NEW_DAY).count() == REQUESTS
        assert NEW_DAY.date() in events.days()
    finally:
        drop_the_day()


def drop_the_day():
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{events.name(NEW_DAY.date())}"')
    events._known.discard(NEW_DAY.date())
