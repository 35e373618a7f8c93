"""Day partitions of the error events table on PostgreSQL (a plain table elsewhere).

A day's partition is created when its first event arrives; retention drops whole days,
which costs the same whatever they hold and leaves no bloat behind.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from monitoring.models import ErrorEvent

TABLE = ErrorEvent._meta.db_table
PREFIX = f"{TABLE}_p"

# Days whose partition surely exists, remembered only once the creating transaction
# committed, so a rolled-back creation is not taken for done.
_created: set[date] = set()


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def partition_ensure(day: date) -> None:
    if not partitioned() or day in _created:
        return
    start = datetime.combine(day, time.min, tzinfo=UTC)
    with connection.cursor() as cursor:
        # The bounds are dates formatted here, not input: DDL takes no bound parameters.
        cursor.execute(
            f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF "{TABLE}" '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
        )
    transaction.on_commit(lambda: _created.add(day))


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
    return sorted(datetime.strptime(n.removeprefix(PREFIX), "%Y%m%d").date() for n in names)


def events_drop_before(cutoff: datetime) -> int:
    """Remove events older than `cutoff`: whole days past it on PostgreSQL (partitions
    dropped), rows elsewhere. Returns partitions dropped or rows deleted."""
    if not partitioned():
        return ErrorEvent.objects.filter(timestamp__lt=cutoff).delete()[0]
    dropped = 0
    for day in partition_days():
        if datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(day)}"')
            _created.discard(day)
            dropped += 1
    return dropped
