import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from monitoring.credentials import digest, matches, new_secret
from monitoring.models import IngestKey, Project


_PUBLIC_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class NewIngestKey:
    key: IngestKey
    secret: str | None  # shown once, never stored in clear


def ingest_key_create(*, project: Project, label: str = "Default", with_secret: bool = False) -> NewIngestKey:
    secret = new_secret() if with_secret else None
    key = IngestKey.objects.create(
        project=project,
        label=label,
        public_key=uuid.uuid4().hex,
        secret_hash=digest(secret) if secret else "",
    )
    return NewIngestKey(key=key, secret=secret)


def ingest_key_revoke(*, key: IngestKey) -> None:
    IngestKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])


def ingest_key_authenticate(*, public_key: str, secret: str | None = None) -> IngestKey | None:
    """The active key for `public_key`, or None. A key with a secret requires it."""
    if not _PUBLIC_KEY.fullmatch(public_key):
        return None  # not a key at all; also keeps bytes PostgreSQL refuses (NUL) out of the query
    try:
        key = IngestKey.objects.select_related("project").get(public_key=public_key, revoked_at=None)
    except (IngestKey.DoesNotExist, ValueError):
        return None
    if key.secret_hash and not (secret and matches(secret, key.secret_hash)):
        return None
    _touch(key)
    return key


def _touch(key: IngestKey) -> None:
    """Record use at most once a minute per key: ingest must not become a write per request."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.INGEST_KEY_TOUCH_SECONDS)
    if key.last_used_at is None or key.last_used_at < stale:
        IngestKey.objects.filter(Q(last_used_at=None) | Q(last_used_at__lt=stale), pk=key.pk).update(
            last_used_at=now
        )
        key.last_used_at = now
