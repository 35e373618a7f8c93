"""The portal's configuration as one YAML document: exported, and imported back all or nothing.

The document is a mapping of sections (targets, channels, schedules, policies, rules,
silences, maintenance, ...), each a list of items. Items refer to each other by natural
keys (a rule names its channels and its escalation policy by name, a policy names its
schedules), never by database ids, so the file reads the same in any portal and lives in git.
It holds environment-variable names, never secret values: the models never hold those either.

This module owns the format and the registry; the apps own their sections. `backups` and
`monitoring` never import `alerts`, so each app registers its sections from its
AppConfig.ready() (monitoring.configuration, alerts.configuration) with section_register().
A section says in which `order` it is imported: an item is imported after everything it may
name (channels before the policies that page them, policies before the rules that use them).

Import is an upsert by natural key inside one transaction: every item is validated by the
same checks as the admin's forms, and one bad item rolls back the whole file and is named,
with its field, in ConfigImportError. An item the file leaves out is left alone (import never
deletes), unless `--prune` asks to delete what the file's sections do not name. Importing what
was just exported changes nothing, and a dry run does the whole import (and prune) and then
rolls it back, so it reports exactly what the real one would do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import yaml
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

FORMAT_VERSION = 1
# libyaml's parser and emitter where installed: the pure-Python ones spend seconds on a large file.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Action = Literal["created", "updated", "unchanged", "deleted"]


class ConfigItemError(ValueError):
    """What a section raises for one item: why, by field (a dotted path inside the item)."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields

    @classmethod
    def from_validation(cls, exc: ValidationError, *, nested: tuple[str, ...] = ()) -> ConfigItemError:
        """Django's field errors as ours. For the JSON fields in `nested` (a rule's params, a
        channel's config) the kind's checks say "threshold: why": that becomes params.threshold."""
        fields: dict[str, str] = {}
        for name, messages in exc.message_dict.items():
            for message in messages:
                head, sep, why = message.partition(": ")
                key = f"{name}.{head}" if name in nested and sep and head.isidentifier() else name
                if key not in fields:
                    fields[key] = why if key != name else message
        return cls(fields)


class ConfigImportError(ValueError):
    """A file that was not imported, and why: one line per bad item and field.

    `errors` keys read `rules[2] (shop/API down).for_seconds`: the section, the item's
    place in it, its natural key, and the field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("\n".join(f"{where}: {why}" for where, why in errors.items()))
        self.errors = errors


class ConfigSection(Protocol):
    name: str  # the section's key in the document
    order: int  # imported in ascending order, after every section whose items it names

    def export(self, project: str | None) -> list[dict[str, Any]]:
        """The section's items (those of one project, by slug, or all), in a stable order."""
        ...

    def key(self, item: dict[str, Any]) -> str:
        """The item's natural key in words ("shop/API down"); "" when the item has none."""
        ...

    def apply(self, item: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Validate and write one item: create it or update the one with its natural key.

        Returns the item as exported before (None if it was created) and after; raises
        ConfigItemError (or ValidationError) naming the fields. Writing what is already
        there must leave the rows as they are."""
        ...

    def existing(self) -> Iterable[tuple[dict[str, Any], Any]]:
        """Every item in the portal (of every project), as exported, with its model instance:
        what `--prune` deletes when the file does not name it."""
        ...


SECTIONS: dict[str, ConfigSection] = {}


def section_register(section: ConfigSection) -> None:
    """Add (or replace, on a second ready()) a section of the configuration document."""
    SECTIONS[section.name] = section


def _sections() -> list[ConfigSection]:
    return sorted(SECTIONS.values(), key=lambda s: (s.order, s.name))


@dataclass(frozen=True)
class ItemChange:
    section: str
    key: str
    action: Action
    fields: tuple[str, ...] = ()  # the top-level fields an update changed


@dataclass(frozen=True)
class ImportSummary:
    changes: tuple[ItemChange, ...]
    dry_run: bool = False
    sections: tuple[str, ...] = field(default=())

    def count(self, action: Action, section: str | None = None) -> int:
        return sum(1 for c in self.changes if c.action == action and section in (None, c.section))

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)

    def lines(self) -> list[str]:
        """The diff summary people read in a CI log: what each section would gain or change."""
        out = []
        for section in self.sections:
            mine = [c for c in self.changes if c.section == section]
            if not mine:
                continue
            counts = ", ".join(
                f"{n} {action}"
                for action in ("created", "updated", "unchanged", "deleted")
                if (n := sum(1 for c in mine if c.action == action))
            )
            out.append(f"{section}: {counts}")
            for change in mine:
                if change.action == "created":
                    out.append(f"  + {change.key}")
                elif change.action == "updated":
                    out.append(f"  ~ {change.key} ({', '.join(change.fields)})")
                elif change.action == "deleted":
                    out.append(f"  - {change.key}")
        verb = "would be" if self.dry_run else "was"
        total = f"{self.count('created')} created, {self.count('updated')} updated, {self.count('unchanged')} unchanged"
        deleted = self.count("deleted")
        were = "would be" if self.dry_run else "was" if deleted == 1 else "were"
        gone = f"{deleted} {were} deleted" if deleted else f"nothing {verb} deleted"
        out.append(f"{total}; {gone}." + (" Dry run: nothing was written." if self.dry_run else ""))
        return out


# --- export ---------------------------------------------------------------------------------


def export_document(project: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    for section in _sections():
        document[section.name] = section.export(project)
    return document


def dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def export_config(project: str | None = None) -> str:
    """The portal's configuration (or one project's, by slug) as YAML that import_config takes back."""
    return dump(export_document(project))


# --- import ---------------------------------------------------------------------------------


def parse(text: str) -> dict[str, list]:
    """The document's sections, checked for shape; ConfigImportError naming what is wrong."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506  a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise ConfigImportError({"file": f"not valid YAML: {str(exc).splitlines()[0]}"}) from exc
    if not isinstance(document, dict):
        raise ConfigImportError({"file": "expected a mapping of sections, e.g. rules: [...]"})
    version = document.pop("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ConfigImportError({"version": f"{version!r} is not a version this portal reads ({FORMAT_VERSION})"})
    errors = {}
    for name, items in document.items():
        if name not in SECTIONS:
            errors[str(name)] = f"unknown section; sections are {', '.join(s.name for s in _sections())}"
        elif not isinstance(items, list):
            errors[str(name)] = "expected a list of items"
    if errors:
        raise ConfigImportError(errors)
    return document


class _DryRun(Exception):
    """Raised to roll a dry run back after it did everything."""


def import_config(text: str, *, dry_run: bool = False, prune: bool = False) -> ImportSummary:
    """Create or update every item of the YAML document, all or nothing; with `prune`, also
    delete what the file's sections do not name (a section the file leaves out is left alone).

    Raises ConfigImportError naming each bad item (section, place, natural key) and field;
    then nothing at all was written."""
    document = parse(text)
    changes: list[ItemChange] = []
    errors: dict[str, str] = {}
    try:
        with transaction.atomic():
            for section in _sections():
                for index, item in enumerate(document.get(section.name) or []):
                    change = _apply(section, index, item, errors)
                    if change is not None:
                        changes.append(change)
            if errors:  # raising inside the block undoes the items that were fine
                raise ConfigImportError(errors)
            if prune:
                changes += _prune(document)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    names = tuple(s.name for s in _sections() if s.name in document)
    return ImportSummary(changes=tuple(changes), dry_run=dry_run, sections=names)


def _prune(document: dict[str, list]) -> list[ItemChange]:
    """Delete what the file's sections leave out: rules before the policies they use, and so
    on (reverse import order). Raises ConfigImportError when a deletion would take an item of
    the file with it (a window on a target the file leaves out): nothing is then deleted."""
    named = {
        s.name: {_safe_key(s.key, i) for i in document[s.name] or [] if isinstance(i, dict)} for s in _present(document)
    }
    changes = []
    for section in reversed(_present(document)):
        for item, instance in list(section.existing()):
            key = _safe_key(section.key, item)
            if key not in named[section.name]:
                instance.delete()
                changes.append(ItemChange(section.name, key, "deleted"))
    errors = {}
    for section in _present(document):
        left = {_safe_key(section.key, item) for item, _ in section.existing()}
        for index, item in enumerate(document[section.name] or []):
            key = _safe_key(section.key, item)
            if key not in left:
                errors[f"{section.name}[{index}] ({key})"] = (
                    "--prune would delete it along with something the file leaves out (e.g. its target); "
                    "add that to the file too, or import without --prune"
                )
    if errors:
        raise ConfigImportError(errors)
    return changes


def _present(document: dict[str, list]) -> list[ConfigSection]:
    return [s for s in _sections() if s.name in document]


def _apply(section: ConfigSection, index: int, item: Any, errors: dict[str, str]) -> ItemChange | None:
    where = f"{section.name}[{index}]"
    if not isinstance(item, dict):
        errors[where] = "expected a mapping of fields"
        return None
    key = _safe_key(section.key, item)
    if key:
        where = f"{where} ({key})"
    try:
        # A savepoint per item: a write the database refuses spoils only this item, so the
        # rest are still checked and every bad item is named in one go.
        with transaction.atomic():
            before, after = section.apply(item)
    except ConfigItemError as exc:
        errors.update({f"{where}.{name}": why for name, why in exc.fields.items()})
        return None
    except ValidationError as exc:
        errors.update({f"{where}.{n}": why for n, why in ConfigItemError.from_validation(exc).fields.items()})
        return None
    except DatabaseError as exc:
        errors[where] = f"the database refused it: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}"
        return None
    if before is None:
        return ItemChange(section.name, key, "created")
    changed = tuple(name for name in after if before.get(name) != after.get(name))
    return ItemChange(section.name, key, "updated" if changed else "unchanged", changed)


def _safe_key(key: Callable[[dict[str, Any]], str], item: dict[str, Any]) -> str:
    try:
        return key(item)
    except (KeyError, TypeError, AttributeError, ValueError, ValidationError):
        return ""


# --- helpers for sections ---------------------------------------------------------------------


def check_fields(item: dict[str, Any], *, known: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
    """Unknown and missing fields of an item, as ConfigItemError."""
    errors = {str(name): "unknown field" for name in item if name not in known}
    errors.update({name: "required" for name in required if item.get(name) in (None, "")})
    if errors:
        raise ConfigItemError(errors)
