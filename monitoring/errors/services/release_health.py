"""Release health from sentry-sdk sessions: how many sessions and users of a release crashed."""

import hashlib
import logging
from collections.abc import Iterable
from datetime import date

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F

from monitoring.errors.sessions import OUTCOMES, SessionCounts
from monitoring.models import Project, ReleaseHealth, ReleaseHealthUser


def did_hash(did: str) -> str:
    return hashlib.sha256(did.encode("utf-8", "surrogatepass")).hexdigest()[:32]


logger = logging.getLogger(__name__)
# How long a session is remembered as counted errored: longer than a page or a process
# stays open in practice, short enough that the cache does not fill with them.
ERRORED_SID_SECONDS = 2 * 86_400


def _first_errored(project: Project, sid: str) -> bool:
    """Whether this is the first update of session `sid` to count it errored. Remembered in
    the cache: a lost cache may count a session twice, but never fails ingest."""
    try:
        return bool(cache.add(f"errors:session-errored:{project.pk}:{did_hash(sid)}", 1, ERRORED_SID_SECONDS))
    except Exception:  # any cache backend's outage; counting twice is the lesser harm
        logger.warning("cache unavailable: a session's errored count is not de-duplicated", exc_info=True)
        return True


def release_health_record(*, project: Project, day: date, batches: Iterable[SessionCounts]) -> None:
    for batch in batches:
        counts = {k: n for k, n in batch.counts.items() if k in OUTCOMES and n > 0}
        if batch.errored_sid and "errored" in counts and not _first_errored(project, batch.errored_sid):
            del counts["errored"]
        key = {"project": project, "release": batch.release, "environment": batch.environment}
        with transaction.atomic():
            if counts:
                _add(key | {"day": day}, counts)
            if batch.users:
                ReleaseHealthUser.objects.bulk_create(
                    [ReleaseHealthUser(**key, user_hash=did_hash(d)) for d in batch.users], ignore_conflicts=True
                )
                crashed = [did_hash(d) for d, did_crash in batch.users.items() if did_crash]
                if crashed:
                    ReleaseHealthUser.objects.filter(**key, user_hash__in=crashed).update(crashed=True)


def _add(lookup: dict, counts: dict[str, int]) -> None:
    rows = ReleaseHealth.objects.filter(**lookup)
    if rows.update(**{k: F(k) + n for k, n in counts.items()}):
        return
    try:
        with transaction.atomic():
            ReleaseHealth.objects.create(**lookup, **counts)
    except IntegrityError:  # another request made the day's row first
        rows.update(**{k: F(k) + n for k, n in counts.items()})
