from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch

from monitoring.models import IngestKey, Project


@dataclass(frozen=True)
class ProjectRow:
    project: Project
    dsn: str | None
    environments: list[str]
    active_keys: int


def projects_with_dsns(limit: int = 50) -> list[ProjectRow]:
    """Projects for the dashboard, in three queries whatever their number."""
    projects = Project.objects.prefetch_related(
        Prefetch("ingest_keys", queryset=IngestKey.objects.filter(revoked_at=None)),
        "environments",
    )[:limit]
    return [
        ProjectRow(
            project=p,
            dsn=p.dsn,
            environments=[e.name for e in p.environments.all()],
            active_keys=len(p.ingest_keys.all()),
        )
        for p in projects
    ]


def project_slugs(ids: Iterable[int]) -> dict[int, str]:
    return dict(Project.objects.filter(pk__in=list(ids)).values_list("pk", "slug"))
