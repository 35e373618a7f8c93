"""Counting envelope items that were not stored: dropped here, or discarded by the SDK."""

from collections.abc import Mapping
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from monitoring.models import EnvelopeOutcome, Project


def envelope_outcomes_record(
    *,
    project: Project,
    day: date,
    dropped: Mapping[tuple[str, str], int],
    reported: Mapping[tuple[str, str], int] | None = None,
) -> None:
    """Add `dropped` (ours) and `reported` (the client's) counts, keyed (category, reason)."""
    counts = [(False, k, n) for k, n in dropped.items()] + [(True, k, n) for k, n in (reported or {}).items()]
    for from_client, (category, reason), quantity in counts:
        if quantity <= 0:
            continue
        lookup = {"project": project, "day": day, "category": category, "reason": reason, "from_client": from_client}
        with transaction.atomic():
            if EnvelopeOutcome.objects.filter(**lookup).update(quantity=F("quantity") + quantity):
                continue
            try:
                with transaction.atomic():
                    EnvelopeOutcome.objects.create(**lookup, quantity=quantity)
            except IntegrityError:  # created meanwhile by another request
                EnvelopeOutcome.objects.filter(**lookup).update(quantity=F("quantity") + quantity)
