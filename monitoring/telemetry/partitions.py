"""Daily partitions of the raw points table on PostgreSQL; a plain table elsewhere.

A day's partition is made the first time a point for that day arrives (and ahead of time
by the rollup task), and dropped whole once the day is past retention: dropping a table
costs the same whatever it holds, where DELETE costs per row and leaves bloat behind.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from monitoring.models import MetricPoint

TABLE = MetricPoint._meta.db_table
PREFIX = f"{TABLE}_p"

# Days whose partition exists for sure: filled only after a commit, so a rolled-back
# creation is never remembered as done.
_known_days: set[date] = set()


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def partitions_ensure(days: Iterable[date]) -> None:
    if not partitioned():
        return
    for day in sorted(set(days) - _known_days):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        end = start + timedelta(days=1)
        with connection.cursor() as cursor:
            # Values are dates we formatted ourselves; DDL cannot take bound parameters.
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF "{TABLE}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        transaction.on_commit(lambda day=day: _known_days.add(day))


def partition_days() -> list[date]:
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(datetime.strptime(name.removeprefix(PREFIX), "%Y%m%d").date() for name in names)


def points_drop_before(cutoff: datetime) -> int:
    """Remove raw points older than `cutoff`: whole days by dropping partitions on
    PostgreSQL (a day still partly inside retention stays), rows elsewhere. Returns the
    number of partitions dropped, or of rows deleted."""
    if not partitioned():
        deleted, _ = MetricPoint.objects.filter(timestamp__lt=cutoff).delete()
        return deleted
    dropped = 0
    for day in partition_days():
        if datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(day)}"')
            _known_days.discard(day)
            dropped += 1
    return dropped
