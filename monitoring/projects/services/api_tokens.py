"""API tokens: made once and shown once, stored as SHA-256, revoked or expired, never edited."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.common.credentials import credential_by_token, new_token
from monitoring.models import ApiToken, Project

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str  # shown once


def api_token_create(
    *,
    user: "User",
    scope: str = ApiToken.Scope.READ,
    name: str = "",
    expires_at: datetime | None = None,
    projects: Iterable[Project] = (),
) -> NewApiToken:
    """`projects` limits the token to those projects' objects; none means every project."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"scope: must be one of {', '.join(ApiToken.Scope.values)}")
    made = new_token(ApiToken.TOKEN_PREFIX)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, scope=scope, expires_at=expires_at, prefix=made.prefix, token_hash=made.hash
        )
        token.projects.set(projects)
    return NewApiToken(token=token, secret=made.token)


def api_token_revoke(*, token: ApiToken) -> None:
    token.revoke()


def api_tokens_revoke_left_without_projects(*, project_ids: Iterable[int]) -> int:
    """Revoke the live tokens limited to none but these projects, before the projects are
    deleted: a token whose projects are all gone would read as limited to none, that is, as a
    token of every project. A token keeping another project stays, limited to what is left.
    Returns how many were revoked."""
    going = set(project_ids)
    tokens = ApiToken.objects.filter(revoked_at=None, projects__in=going).distinct().prefetch_related("projects")
    left_without = [t for t in tokens if {p.pk for p in t.projects.all()} <= going]
    for token in left_without:
        token.revoke()
    return len(left_without)


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token (not revoked, not expired, of an active user) this secret is, or None."""
    rows = (
        ApiToken.objects.select_related("user")
        .filter(user__is_active=True)
        .filter(Q(expires_at=None) | Q(expires_at__gt=timezone.now()))
    )
    return credential_by_token(rows, secret)
