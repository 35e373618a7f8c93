"""Events past retention go (whole days on PostgreSQL); issues and newer events stay."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from monitoring.errors import partitions
from monitoring.errors.tasks import apply_error_retention, fold_error_issues
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueHourly
from tests.factories import ProjectFactory
from tests.monitoring.errors.factories import store_event

# Committed rows, as in production: PostgreSQL will not drop a partition that rows
# inserted earlier in the same transaction still have foreign-key checks pending on.
pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_retention_removes_events_older_than_the_setting(settings):
    settings.ERRORS_RETENTION_DAYS = 10
    project = ProjectFactory()
    with time_machine.travel(NOW - timedelta(days=12), tick=False):
        store_event(project, message="old")
    with time_machine.travel(NOW - timedelta(days=9), tick=False):
        store_event(project, message="recent")
    with time_machine.travel(NOW, tick=False):
        apply_error_retention()
    assert list(ErrorEvent.objects.values_list("payload__message", flat=True)) == ["recent"]
    assert ErrorIssue.objects.count() == 2  # issues keep their history


def test_retention_forgets_the_hourly_counts_of_the_events_it_drops(settings):
    settings.ERRORS_RETENTION_DAYS = 10
    project = ProjectFactory()
    for days_ago in (12, 9):
        with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
            store_event(project, message="boom")
    with time_machine.travel(NOW, tick=False):
        fold_error_issues()
        assert ErrorIssueHourly.objects.count() == 2
        apply_error_retention()
    assert list(ErrorIssueHourly.objects.values_list("hour", "count")) == [(NOW - timedelta(days=9), 1)]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions need PostgreSQL")
def test_on_postgresql_retention_drops_whole_day_partitions(settings):
    settings.ERRORS_RETENTION_DAYS = 10
    project = ProjectFactory()
    for days_ago in (12, 11, 9):
        with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
            store_event(project)
    days = partitions.events.days()
    assert (NOW - timedelta(days=12)).date() in days
    with time_machine.travel(NOW, tick=False):
        assert apply_error_retention() == len([d for d in days if d < (NOW - timedelta(days=10)).date()])
    left = partitions.events.days()
    assert min(left) >= (NOW - timedelta(days=10)).date()
    assert ErrorEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions need PostgreSQL")
def test_the_beat_tick_makes_tomorrows_partition():
    with time_machine.travel(NOW, tick=False):
        fold_error_issues()
    assert (NOW + timedelta(days=1)).date() in partitions.events.days()
