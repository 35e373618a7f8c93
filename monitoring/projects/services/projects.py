import re
from dataclasses import dataclass

from django.db import models, transaction
from django.utils.text import slugify

from monitoring.models import Environment, Project
from monitoring.projects.services.api_tokens import api_tokens_revoke_left_without_projects
from monitoring.projects.services.ingest_keys import NewIngestKey, ingest_key_create


@dataclass(frozen=True)
class NewProject:
    project: Project
    key: NewIngestKey


class ProjectError(ValueError):
    """A project could not be created as asked; the message names the field."""


def _field_length(field: str) -> int:
    column = Project._meta.get_field(field)
    assert isinstance(column, models.CharField) and column.max_length is not None  # name and slug are
    return column.max_length


# Characters no database column can hold: PostgreSQL text refuses NUL, and a lone
# surrogate (an undecodable byte of a command line) cannot be encoded to UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def project_create(*, name: str, slug: str = "", environments: tuple[str, ...] = ("production",)) -> NewProject:
    """Create a project with its environments and a first ingest key, ready for a DSN.

    Everything the columns cannot hold is refused here, naming the field: left to the
    database it is a DataError, which reads as an outage (or on SQLite, which does not
    check lengths, is stored whole)."""
    name = name.strip()
    if not name:
        raise ProjectError("name: a project needs a name")
    if _UNSTORABLE.search(name):
        raise ProjectError("name: contains a NUL character or invalid Unicode")
    if len(name) > (limit := _field_length("name")):
        raise ProjectError(f"name: {len(name)} characters, over the limit of {limit}")
    slug_limit = _field_length("slug")
    if not slug and len(made := slugify(name)) > slug_limit:
        raise ProjectError(
            f"name: its slug would be {len(made)} characters, over the limit of {slug_limit}; "
            "give a shorter name, or a slug"
        )
    slug = slug or slugify(name)
    if not slug:
        raise ProjectError(f"slug: cannot make a slug from the name {name!r}; give one")
    if len(slug) > slug_limit:
        raise ProjectError(f"slug: {len(slug)} characters, over the limit of {slug_limit}")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise ProjectError(f"slug: a project with slug {slug!r} exists already")
        project = Project.objects.create(name=name, slug=slug)
        Environment.objects.bulk_create(Environment(project=project, name=env) for env in environments)
        return NewProject(project=project, key=ingest_key_create(project=project))


def projects_delete(*, projects: models.QuerySet[Project]) -> int:
    """Delete projects with all they own. A token limited to these projects alone is revoked
    first: with no projects left it would read as a token of every project."""
    with transaction.atomic():
        api_tokens_revoke_left_without_projects(project_ids=list(projects.values_list("pk", flat=True)))
        deleted, _ = projects.delete()
    return deleted
