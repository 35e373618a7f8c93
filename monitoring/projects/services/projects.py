from dataclasses import dataclass

from django.db import transaction
from django.utils.text import slugify

from monitoring.models import Environment, Project
from monitoring.projects.services.ingest_keys import NewIngestKey, ingest_key_create


@dataclass(frozen=True)
class NewProject:
    project: Project
    key: NewIngestKey


class ProjectError(ValueError):
    """A project could not be created as asked; the message names the field."""


def project_create(*, name: str, slug: str = "", environments: tuple[str, ...] = ("production",)) -> NewProject:
    """Create a project with its environments and a first ingest key, ready for a DSN."""
    name = name.strip()
    if not name:
        raise ProjectError("name: a project needs a name")
    slug = slug or slugify(name)
    if not slug:
        raise ProjectError(f"slug: cannot make a slug from the name {name!r}; give one")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise ProjectError(f"slug: a project with slug {slug!r} exists already")
        project = Project.objects.create(name=name, slug=slug)
        Environment.objects.bulk_create(Environment(project=project, name=env) for env in environments)
        return NewProject(project=project, key=ingest_key_create(project=project))
