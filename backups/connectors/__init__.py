"""Backup connectors, one class per source kind; `connector_for(plan)` picks the plan's."""

from typing import TYPE_CHECKING

from backups.connectors.base import Connector, Dump, Format
from backups.connectors.portal import PortalConnector
from backups.connectors.postgres import PostgresConnector
from backups.connectors.sqlite import SqliteConnector
from backups.models import Source

if TYPE_CHECKING:
    from backups.models import Plan

CONNECTORS: dict[str, type[Connector]] = {
    Source.PORTAL: PortalConnector,
    Source.POSTGRES: PostgresConnector,
    Source.SQLITE: SqliteConnector,
}


def connector_for(plan: "Plan") -> Connector:
    return CONNECTORS[plan.source](plan)


__all__ = ["CONNECTORS", "Connector", "Dump", "Format", "connector_for"]
