"""Ingest keys: a public key (the DSN's user part) that names a project, with an optional secret.

The public key is no secret, since browser SDKs ship it; the secret, for server-side clients
that want one, is shown once and stored as SHA-256.
"""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from monitoring.common.credentials import digest, matches, new_secret
from monitoring.models import IngestKey, Project

_PUBLIC_KEY = re.compile(r"[0-9a-f]{32}")
# Active keys (with their project) this process looked up, by public key, and when: ingest
# authenticates every request, and the lookup was a round trip per event. A key revoked
# (or a project edited) in another process is seen once its entry is this old; the
# revoking process drops its own entry at once.
KEY_CACHE_SECONDS = 5.0
KEY_CACHE_SIZE = 1_000
_active: dict[str, tuple[float, IngestKey]] = {}


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
    key.revoke()
    _active.pop(key.public_key, None)


def ingest_key_authenticate(*, public_key: str, secret: str | None = None) -> IngestKey | None:
    """The active key for `public_key`, or None. A key with a secret requires it."""
    if not _PUBLIC_KEY.fullmatch(public_key):
        return None  # not a key at all; also keeps bytes PostgreSQL refuses (NUL) out of the query
    key = _active_key(public_key)
    if key is None:
        return None
    if key.secret_hash and not (secret and matches(secret, key.secret_hash)):
        return None
    key.record_use(every=timedelta(seconds=settings.INGEST_KEY_TOUCH_SECONDS))
    return key


def _active_key(public_key: str) -> IngestKey | None:
    now = time.monotonic()
    cached = _active.get(public_key)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    try:
        key = IngestKey.objects.select_related("project").get(public_key=public_key, revoked_at=None)
    except IngestKey.DoesNotExist:
        _active.pop(public_key, None)
        return None  # unknown keys are not remembered: anyone can send endless ones
    if len(_active) >= KEY_CACHE_SIZE:
        _active.clear()
    _active[public_key] = (now, key)
    return key
