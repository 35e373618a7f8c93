"""What the alert engine, the admin and the API read about targets: status, flips, results."""

from dataclasses import dataclass
from datetime import datetime

from monitoring.models import Flip, ProbeResult, Target


@dataclass(frozen=True)
class TargetStatus:
    target_id: int
    project_id: int
    name: str
    kind: str
    status: str
    since: datetime | None
    last_checked_at: datetime | None
    cert_expires_at: datetime | None


def target_statuses(*, project_id: int | None = None, target_ids: list[int] | None = None) -> list[TargetStatus]:
    """Current status of every target (or those asked for), in one query."""
    targets = Target.objects.all()
    if project_id is not None:
        targets = targets.filter(project_id=project_id)
    if target_ids is not None:
        targets = targets.filter(pk__in=target_ids)
    rows = targets.order_by("pk").values_list("pk", "project_id", "name", "kind", "status", "status_changed_at",
                                              "last_checked_at", "cert_expires_at")
    return [TargetStatus(*row) for row in rows]


def flips_since(*, since: datetime, target_ids: list[int] | None = None, limit: int = 10_000) -> list[Flip]:
    """Flips after `since`, oldest first, so a reader can resume from the last one it saw."""
    flips = Flip.objects.filter(at__gt=since)
    if target_ids is not None:
        flips = flips.filter(target_id__in=target_ids)
    return list(flips.order_by("at", "id")[:limit])


def target_results(*, target_id: int, since: datetime | None = None, limit: int = 500) -> list[ProbeResult]:
    """A target's latest raw results, newest first (for drill-down; dashboards read rollups)."""
    results = ProbeResult.objects.filter(target_id=target_id)
    if since is not None:
        results = results.filter(checked_at__gte=since)
    return list(results.order_by("-checked_at")[:limit])


def certificates_expiring(*, before: datetime) -> list[TargetStatus]:
    """Targets whose last seen certificate expires before `before`, soonest first."""
    ids = list(Target.objects.filter(cert_expires_at__lt=before, paused=False)
               .order_by("cert_expires_at").values_list("pk", flat=True))
    by_id = {s.target_id: s for s in target_statuses(target_ids=ids)}
    return [by_id[i] for i in ids]


def target_ids_tagged(*, tag: str, project_id: int | None = None) -> list[int]:
    """Targets carrying the tag named `tag`."""
    targets = Target.objects.filter(tags__name=tag)
    if project_id is not None:
        targets = targets.filter(project_id=project_id)
    return list(targets.order_by("pk").values_list("pk", flat=True))


def latest_flip_reasons(*, target_ids: list[int]) -> dict[int, str]:
    """Why each target last changed status: the newest flip's reason, by target id."""
    reasons: dict[int, str] = {}
    rows = Flip.objects.filter(target_id__in=target_ids).order_by("target_id", "-at", "-id").values_list(
        "target_id", "reason")
    for target_id, reason in rows.iterator(chunk_size=2000):
        reasons.setdefault(target_id, reason)
    return reasons
