"""Targets as code: export to and import from JSON or YAML, all or nothing."""

import json
from dataclasses import dataclass

import yaml
from django.db import transaction

from monitoring.models import Project, Target
from monitoring.uptime.services.config import TARGET_FIELDS, TargetConfigError, target_as_config, target_save

FORMATS = ("json", "yaml")
_KNOWN = {*TARGET_FIELDS, "project", "tags", "heartbeat"}


class TargetImportError(ValueError):
    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int


def targets_export(*, project_slug: str | None = None, target_ids: list[int] | None = None) -> dict:
    targets = (
        Target.objects.select_related("project", "heartbeat")
        .prefetch_related("tags")
        .order_by("project__slug", "name", "id")
    )
    if project_slug:
        targets = targets.filter(project__slug=project_slug)
    if target_ids is not None:
        targets = targets.filter(pk__in=target_ids)
    return {"targets": [target_item(t) for t in targets]}


def config_dump(document: dict, *, fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def config_parse(text: str, *, fmt: str) -> list:
    try:
        document = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise TargetImportError({"file": [f"not valid {fmt.upper()}: {str(exc).splitlines()[0]}"]}) from exc
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise TargetImportError({"file": ['expected an object with a "targets" list']})
    return document["targets"]


def target_item(target: Target) -> dict:
    """A target as one item of a targets file: its project's slug, then its own fields."""
    return {"project": target.project.slug, **target_as_config(target)}


@transaction.atomic
def targets_import(*, items: list) -> ImportReport:
    """Create or update each target, matched by project slug and name; any error writes nothing."""
    errors: dict[str, list[str]] = {}
    projects = {
        p.slug: p
        for p in Project.objects.filter(
            slug__in=[i.get("project") for i in items if isinstance(i, dict) and isinstance(i.get("project"), str)]
        )
    }
    created = updated = 0
    for index, item in enumerate(items):
        try:
            before, _ = target_apply(item=item, projects=projects)
        except TargetImportError as exc:
            errors.update({f"targets[{index}]{'.' if k else ''}{k}": v for k, v in exc.fields.items()})
            continue
        updated += before is not None
        created += before is None
    if errors:  # raising inside the atomic block undoes the items that were fine
        raise TargetImportError(errors)
    return ImportReport(created=created, updated=updated)


def target_apply(*, item: object, projects: dict[str, Project] | None = None) -> tuple[dict | None, dict]:
    """Create or update one target from a file's item, matched by project slug and name.

    Returns the item as exported before (None when created) and after. TargetImportError
    names the fields ("" for the item as a whole); `projects` by slug saves a query per item."""
    if not isinstance(item, dict):
        raise TargetImportError({"": ["expected an object"]})
    unknown = sorted(set(item) - _KNOWN)
    if unknown:
        raise TargetImportError({unknown[0]: ["unknown field"]})
    slug = item.get("project")
    if projects is None:
        projects = {p.slug: p for p in Project.objects.filter(slug=slug)} if isinstance(slug, str) else {}
    project = projects.get(slug) if isinstance(slug, str) else None
    if project is None:
        raise TargetImportError({"project": [f"no project with slug {item.get('project')!r}"]})
    fields = {k: v for k, v in item.items() if k in TARGET_FIELDS}
    existing = list(
        Target.objects.filter(project=project, name=fields.get("name"))
        .select_related("project", "heartbeat")
        .prefetch_related("tags")[:2]
    )
    if len(existing) > 1:
        raise TargetImportError({"name": ["more than one target has this name in the project"]})
    target = existing[0] if existing else Target(project=project)
    before = target_item(target) if target.pk else None
    if target.pk and "paused" in fields and fields["paused"] != target.paused:
        raise TargetImportError({"paused": ["pause or resume in the admin or API, so the change is recorded"]})
    for name, value in fields.items():
        setattr(target, name, value)
    try:
        target_save(target=target, tags=item.get("tags"), heartbeat=item.get("heartbeat"))
    except TargetConfigError as exc:
        raise TargetImportError(exc.fields) from exc
    target = Target.objects.select_related("project", "heartbeat").prefetch_related("tags").get(pk=target.pk)
    return before, target_item(target)
