"""The credentials Lookout hands out, and how a request presents one.

Three kinds share one life: ingest keys (a public key with an optional secret), API tokens
(`lkt_…`) and integration tokens (`lki_…`). Each secret is made here, shown once, and only
its SHA-256 is stored. The secrets are random 256-bit values, so one SHA-256 is enough: a
slow password hash protects guessable passwords, not random tokens. It also lets a token
be found by the hash of what was presented, so no comparison ever runs on the secret
itself; a secret kept beside a public identifier is compared in constant time instead.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

# Enough of a token, after its prefix, for a person to tell tokens apart in a list; far
# too little to guess the rest from.
SHOWN_CHARACTERS = 6
RECORD_USE_EVERY = timedelta(minutes=1)
# RFC 9110 allows only spaces and tabs between a scheme and its credential; str.split()
# would also split on the NBSP a latin-1 header can carry.
_SEPARATOR = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    prefix: str  # stored in clear, so people can tell tokens apart
    hash: str  # what is stored and looked up


class MalformedCredential(ValueError):
    """The request names the Bearer scheme but does not carry one token after it."""


def new_secret(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def new_token(prefix: str) -> NewToken:
    """A token that names its kind by `prefix` (`lkt_`), so a leaked one is recognised in a log or a scan."""
    token = new_secret(prefix)
    return NewToken(token=token, prefix=token[: len(prefix) + SHOWN_CHARACTERS], hash=digest(token))


def digest(secret: str) -> str:
    # A JSON body can carry a lone surrogate, which strict UTF-8 refuses to encode; hashed
    # this way it simply matches nothing, where it used to fail the request with a 500.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (the scheme in any case).

    None when there is no header or it uses another scheme, so the caller may look for
    the credential elsewhere; MalformedCredential when it says Bearer but does not carry
    exactly one token, which is a client's mistake worth naming rather than ignoring.
    """
    parts = _SEPARATOR.split(authorization.strip(" \t")) if authorization else []
    if not parts or parts[0].lower() != "bearer":
        return None
    if len(parts) != 2:
        raise MalformedCredential("expected 'Bearer <token>'")
    return parts[1]


class Credential(models.Model):
    """What every stored credential keeps about its life; the secret's hash is the kind's own."""

    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def revoke(self, *, now: datetime | None = None) -> None:
        """Revoke, once: revoking again keeps the first time, which is when access ended."""
        type(self)._default_manager.filter(pk=self.pk, revoked_at=None).update(revoked_at=now or timezone.now())
        self.refresh_from_db(fields=["revoked_at"])

    def record_use(self, *, every: timedelta = RECORD_USE_EVERY) -> None:
        """Note the use at most once per `every`: authentication runs on every request and
        must not become a write per request. The update is conditional, so processes that
        authenticate the same credential at the same moment write it once."""
        now = timezone.now()
        stale = now - every
        if self.last_used_at is None or self.last_used_at < stale:
            type(self)._default_manager.filter(Q(last_used_at=None) | Q(last_used_at__lt=stale), pk=self.pk).update(
                last_used_at=now
            )
            self.last_used_at = now


class TokenCredential(Credential):
    """A credential that is one token, whose kind its prefix names (`lkt_…`), found by its hash."""

    TOKEN_PREFIX: ClassVar[str]
    token_hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        abstract = True


T = TypeVar("T", bound=TokenCredential)


def credential_by_token(rows: QuerySet[T], presented: str) -> T | None:
    """The unrevoked credential among `rows` whose token was presented, its use noted; else None.

    Found by the token's hash, so no comparison ever sees the secret. A presented value
    without the kind's prefix cannot be one of its tokens and costs no query.
    """
    if not presented.startswith(rows.model.TOKEN_PREFIX):
        return None
    credential = rows.filter(token_hash=digest(presented), revoked_at=None).first()
    if credential is not None:
        credential.record_use()
    return credential
