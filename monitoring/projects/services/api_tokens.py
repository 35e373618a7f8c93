from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from monitoring.common.credentials import digest, new_secret
from monitoring.models import ApiToken

TOKEN_PREFIX = "lkt_"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str  # shown once


def api_token_create(
    *, user: AbstractBaseUser, scope: str = ApiToken.Scope.READ, name: str = "", expires_at=None
) -> NewApiToken:
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"scope: must be one of {', '.join(ApiToken.Scope.values)}")
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        expires_at=expires_at,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=digest(secret),
    )
    return NewApiToken(token=token, secret=secret)


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=digest(secret), revoked_at=None, user__is_active=True)
        .filter(Q(expires_at=None) | Q(expires_at__gt=now))
        .first()
    )
    if token and (token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
