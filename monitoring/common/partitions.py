"""Day partitions of a time-series table on PostgreSQL; a plain table elsewhere.

A day's partition is made the first time a row for that day arrives (and ahead of time by
the beat tasks), and dropped whole once the day is past retention: dropping a table costs
the same whatever it holds, where DELETE costs per row and leaves bloat behind.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from django.db import connection, models, transaction


class DailyPartitions:
    def __init__(self, model: type[models.Model], time_field: str = "timestamp"):
        self.model = model
        self.time_field = time_field
        # Days whose partition surely exists: remembered only once the creating
        # transaction committed, so a rolled-back creation is never taken for done.
        self._known: set[date] = set()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def prefix(self) -> str:
        return f"{self.table}_p"

    @staticmethod
    def enabled() -> bool:
        return connection.vendor == "postgresql"

    def name(self, day: date) -> str:
        return f"{self.prefix}{day:%Y%m%d}"

    def ensure(self, days: Iterable[date]) -> None:
        if not self.enabled():
            return
        for day in sorted(set(days) - self._known):
            start = datetime.combine(day, time.min, tzinfo=UTC)
            end = start + timedelta(days=1)
            # IF NOT EXISTS does not make concurrent creators safe: each checks the catalog
            # before any has committed, and all but one fail with "already exists" (every
            # web worker's first event of a new day, if the beat task has not made it
            # ahead). A lock on the partition's name makes them take turns; it is held to
            # the end of the transaction, so the next one sees the table committed.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self.name(day)])
                # The bounds are dates formatted here, not input: DDL takes no bound parameters.
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{self.name(day)}" PARTITION OF "{self.table}" '
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
            transaction.on_commit(partial(self._known.add, day))

    def days(self) -> list[date]:
        if not self.enabled():
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass",
                [self.table],
            )
            names = [row[0] for row in cursor.fetchall()]
        return sorted(datetime.strptime(name.removeprefix(self.prefix), "%Y%m%d").date() for name in names)

    def drop_before(self, cutoff: datetime) -> int:
        """Remove rows older than `cutoff`: whole days by dropping partitions on PostgreSQL
        (a day still partly inside retention stays), rows elsewhere. Returns the number of
        partitions dropped, or of rows deleted."""
        if not self.enabled():
            deleted, _ = self.model._default_manager.filter(**{f"{self.time_field}__lt": cutoff}).delete()
            return deleted
        dropped = 0
        for day in self.days():
            if datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) <= cutoff:
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP TABLE IF EXISTS "{self.name(day)}"')
                self._known.discard(day)
                dropped += 1
        return dropped
