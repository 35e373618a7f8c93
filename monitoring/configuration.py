"""Monitoring's sections of the configuration document (backups.services.configuration):
targets, heartbeats among them (a heartbeat is a target with its schedule nested), exactly
as exporttargets writes them, so a targets file is also a configuration file."""

from collections.abc import Iterator
from typing import Any

from backups.services.configuration import ConfigItemError, section_register
from monitoring.models import Target
from monitoring.uptime.services.config_as_code import TargetImportError, target_apply, target_item, targets_export


class TargetsSection:
    name = "targets"
    order = 10  # named by maintenance windows

    def export(self, project: str | None) -> list[dict[str, Any]]:
        return targets_export(project_slug=project)["targets"]

    def existing(self) -> Iterator[tuple[dict[str, Any], Target]]:
        targets = Target.objects.select_related("project", "heartbeat").prefetch_related("tags")
        return ((target_item(t), t) for t in targets)

    def key(self, item: dict[str, Any]) -> str:
        return f"{item['project']}/{item['name']}"

    def apply(self, item: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        try:
            return target_apply(item=item)
        except TargetImportError as exc:
            raise ConfigItemError({name or "item": " ".join(why) for name, why in exc.fields.items()}) from exc


def register() -> None:
    section_register(TargetsSection())
