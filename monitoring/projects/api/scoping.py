"""Project-limited API tokens: the one place that narrows what a token sees to its projects.

A token may be limited to some projects (ApiToken.projects). A view that can narrow its objects
to those says so with `scopes_by_project = True` and reads its querysets through `project_scoped`;
TokenScope refuses a limited token at every other view, so an endpoint that has not been taught
about projects (global configuration, a new view) answers 403 instead of showing every project.
Within its projects the token still acts as its user, by the user's role."""

from collections.abc import Iterable
from typing import TypeVar

from django.db.models import Model, QuerySet
from rest_framework import serializers
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


def outside_token(request: Request, project_ids: Iterable[int | None]) -> list[int | None]:
    """Those of `project_ids` the token may not reach (None, an object of no project, is outside
    every limited token): empty when the token is not limited."""
    limited = token_projects(request)
    if limited is None:
        return []
    return sorted({pk for pk in project_ids if pk not in limited}, key=lambda pk: pk or 0)


def limited_message(request: Request, outside: Iterable[object]) -> str:
    names = ", ".join(str(pk) if pk is not None else "none" for pk in outside)
    limited = ", ".join(map(str, sorted(token_projects(request) or ())))
    return f"this token is limited to projects {limited}; project {names} is outside them"


def check_project(request: Request, project: Model | int | None, *, field: str = "project") -> None:
    """Refuse (400 naming `field`) creating or moving an object into a project (one or its id)
    the token may not reach, so a limited token cannot write where it cannot read."""
    outside = outside_token(request, [project.pk if isinstance(project, Model) else project])
    if outside:
        raise serializers.ValidationError({field: [limited_message(request, outside)]})
