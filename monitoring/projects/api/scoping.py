"""Project-limited API tokens: the one place that narrows what a token sees to its projects.

A token may be limited to some projects (ApiToken.projects). A view that can narrow its objects
to those says so with `scopes_by_project = True` and reads its querysets through `project_scoped`;
TokenScope refuses a limited token at every other view, so an endpoint that has not been taught
about projects (global configuration, a new view) answers 403 instead of showing every project.
Within its projects the token still acts as its user, by the user's role."""

from typing import TypeVar

from django.db.models import Model, QuerySet
from rest_framework.request import Request

from monitoring.models import ApiToken

M = TypeVar("M", bound=Model)


def token_projects(request: Request) -> frozenset[int] | None:
    """The project ids the request's token is limited to; None when it is not limited (or the
    request is not a token's: a signed-in session sees what its user sees)."""
    token = request.auth
    return token.project_ids if isinstance(token, ApiToken) else None


def project_scoped(queryset: QuerySet[M], request: Request, *, field: str = "project") -> QuerySet[M]:
    """`queryset` narrowed to the token's projects, through `field` (a path to the project)."""
    limited = token_projects(request)
    if limited is None:
        return queryset
    lookup = "pk__in" if field == "pk" else f"{field}__in"
    return queryset.filter(**{lookup: limited})
