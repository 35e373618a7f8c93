"""Release health from sentry-sdk sessions: how many sessions and users of a release crashed."""

import hashlib
from collections.abc import Iterable
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from monitoring.errors.sessions import OUTCOMES, SessionCounts
from monitoring.models import Project, ReleaseHealth, ReleaseHealthUser


def did_hash(did: str) -> str:
    return hashlib.sha256(did.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def release_health_record(*, project: Project, day: date, batches: Iterable[SessionCounts]) -> None:
    for batch in batches:
        counts = {k: n for k, n in batch.counts.items() if k in OUTCOMES and n > 0}
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
