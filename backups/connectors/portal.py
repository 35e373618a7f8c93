"""The portal's own database (PostgreSQL or SQLite, whichever it runs on) and its configuration.

The database dump is the PostgreSQL or SQLite connector's; the data export is Django's
`dumpdata` (so `loaddata` reads it back); the configuration backup is the YAML that
`importconfig` reads back, produced by `backups.services.configuration.export_config`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO, TextIOWrapper
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.db import connections

from backups import pg
from backups.connectors.base import Connector, Dump, Format, produced
from backups.connectors.postgres import PostgresConnector
from backups.connectors.sqlite import SqliteConnector
from backups.errors import BackupError
from backups.models import FailureKind, Kind, Source

if TYPE_CHECKING:
    from backups.models import Plan


class PortalConnector(Connector):
    source = Source.PORTAL
    kinds = (Kind.DATABASE, Kind.EXPORT, Kind.CONFIG)

    def __init__(self, plan: "Plan", *, alias: str = "default"):
        super().__init__(plan)
        self.alias = alias

    def database(self) -> Connector:
        settings_dict = connections[self.alias].settings_dict
        if connections[self.alias].vendor == "postgresql":
            return PostgresConnector(self.plan, conninfo=pg.conninfo_from_django(settings_dict))
        if connections[self.alias].vendor == "sqlite":
            return SqliteConnector(self.plan, path=str(settings_dict["NAME"]))
        raise BackupError(f"the portal runs on {connections[self.alias].vendor}, which backups do not support")

    def vendor(self) -> str:
        return self.database().vendor()

    def check(self) -> str:
        return self.database().check()

    def database_dump(self):
        return self.database().database_dump()

    @contextmanager
    def data_export(self) -> Iterator[Dump]:
        from django.core.management import call_command

        version = settings.VERSION

        def write(out: IO[bytes]) -> dict[str, int]:
            text = TextIOWrapper(out, encoding="utf-8")
            try:
                call_command(
                    "dumpdata",
                    natural_foreign=True,
                    exclude=["contenttypes", "auth.permission", "sessions"],
                    stdout=text,
                    database=self.alias,
                )
                text.flush()
                text.detach()
            finally:
                # The thread opened its own connection; leave none behind.
                connections[self.alias].close()
            return {}

        with produced(write) as (reader, finish):
            dump = Dump(reader=reader, format=Format.DUMPDATA, source_version=f"Lookout {version}")
            yield dump
            dump.row_counts = finish()

    @contextmanager
    def config_export(self) -> Iterator[Dump]:
        try:
            from backups.services.configuration import dump, export_document
        except ImportError as exc:
            raise BackupError("the configuration export is not installed", kind=FailureKind.CONFIG) from exc
        document = export_document()
        yield Dump(
            reader=BytesIO(dump(document).encode()),
            format=Format.CONFIG_YAML,
            source_version=f"Lookout {settings.VERSION}",
            # Items per section, so verification can tell an import into a scratch portal lost none.
            row_counts={name: len(items) for name, items in document.items() if isinstance(items, list)},
        )
