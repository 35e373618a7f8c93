"""What the alert engine, the admin and the API read about targets: status, flips, results.

Uptime % and response-time percentiles per target, read from rollups only.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import DEFERRED, Case, CharField, Count, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Cast
from django.utils import timezone

from monitoring.models import Flip, ProbeResult, Status, Target, TargetRollup, TargetRollupCursor
from monitoring.uptime.causes import FlipCause

# SILENT is read by the alert engine from here, as every uptime fact is.
from monitoring.uptime.services.debounce import SILENT as SILENT
from monitoring.uptime.services.debounce import quorum_reachable, target_silent_regions, target_verdict
from monitoring.uptime.services.rollups import ROLLUP_COUNTS, Tally, floor_time


@dataclass(frozen=True)
class TargetState:
    """A target's current status as the alert engine reads it; `since` is when it last changed."""

    target_id: int
    project_id: int
    name: str
    kind: str
    status: str
    since: datetime | None
    last_checked_at: datetime | None
    cert_expires_at: datetime | None
    # Regions with no result for two intervals; when too few regions are left to reach the
    # quorum, `status` reads "silent" whatever the regions last said.
    silent_regions: tuple[str, ...] = ()


_STATE_COLUMNS = (
    "pk",
    "project_id",
    "name",
    "kind",
    "status",
    "status_changed_at",
    "last_checked_at",
    "cert_expires_at",
    "paused",
    "created_at",
    "interval_seconds",
    "regions",
    "quorum",
    "region_states",
)


def target_statuses(
    *, project_id: int | None = None, target_ids: list[int] | None = None, now: datetime | None = None
) -> list[TargetState]:
    """Current status of every target (or those asked for), in one query, silent regions
    judged at `now`."""
    targets = Target.objects.all()
    if project_id is not None:
        targets = targets.filter(project_id=project_id)
    if target_ids is not None:
        targets = targets.filter(pk__in=target_ids)
    now = now or timezone.now()
    return [target_state(t, now=now) for t in _state_targets(targets.order_by("pk"))]


def _state_targets(targets: QuerySet[Target]) -> Iterator[Target]:
    """The targets with _STATE_COLUMNS loaded, the others deferred, as .only() gives them but
    built from values_list() rows: .only() has Model.from_db match each of the model's fields
    against the loaded names, row by row, which was a third of a status page's read."""
    attnames = [f.attname for f in Target._meta.concrete_fields]
    columns = [Target._meta.pk.attname if c == "pk" else c for c in _STATE_COLUMNS]
    slots = [attnames.index(c) for c in columns]
    for row in targets.values_list(*columns):
        values: list[Any] = [DEFERRED] * len(attnames)
        for slot, value in zip(slots, row, strict=True):
            values[slot] = value
        yield Target.from_db(targets.db, attnames, values)


def target_state(target: Target, *, now: datetime) -> TargetState:
    silent = target_silent_regions(target, now=now)
    status = target.status
    if silent:
        regions, quorum = target.regions, target.effective_quorum
        if not quorum_reachable(regions=regions, silent=silent, quorum=quorum):
            status = SILENT
        else:
            # What the regions still reporting say, without waiting for their next result to
            # store it: a silent region's last verdict counts for nothing from now on.
            live = target_verdict(target.region_states or {}, regions=regions, quorum=quorum, silent=silent)
            status = live if live != Status.UNKNOWN else status
    return TargetState(
        target.pk,
        target.project_id,
        target.name,
        target.kind,
        status,
        target.status_changed_at,
        target.last_checked_at,
        target.cert_expires_at,
        tuple(silent),
    )


@dataclass(frozen=True)
class RegionState:
    """What one region of a target says now, and its newest result."""

    region: str
    status: str  # the region's verdict, or "unknown" while it is silent
    silent: bool
    last_result_at: datetime | None
    last_outcome: str | None  # "up", "degraded", "down"
    last_latency_ms: int | None
    last_error: str


_OUTCOME_NAMES: dict[int, str] = {
    ProbeResult.Outcome.UP: "up",
    ProbeResult.Outcome.DEGRADED: "degraded",
    ProbeResult.Outcome.DOWN: "down",
}


def target_regions(*, target: Target, now: datetime | None = None) -> list[RegionState]:
    """Each of the target's regions (and any region that still has results but was removed),
    with its verdict and newest result: one indexed lookup per region."""
    now = now or timezone.now()
    silent = set(target_silent_regions(target, now=now))
    states = target.region_states or {}
    regions = list(target.regions) + [r for r in sorted(states) if r not in target.regions]
    rows = []
    for region in regions:
        newest = (
            ProbeResult.objects.filter(target_id=target.pk, region=region)
            .order_by("-checked_at")
            .values_list("checked_at", "outcome", "latency_ms", "error")
            .first()
        )
        verdict = (states.get(region) or {}).get("verdict", Status.UNKNOWN)
        rows.append(
            RegionState(
                region=region,
                status=Status.UNKNOWN if region in silent else verdict,
                silent=region in silent,
                last_result_at=newest[0] if newest else None,
                last_outcome=_OUTCOME_NAMES.get(newest[1]) if newest else None,
                last_latency_ms=newest[2] if newest else None,
                last_error=newest[3] if newest else "",
            )
        )
    return rows


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


def certificates_expiring(*, before: datetime) -> list[TargetState]:
    """Targets whose last seen certificate expires before `before`, soonest first."""
    ids = list(
        Target.objects.filter(cert_expires_at__lt=before, paused=False)
        .order_by("cert_expires_at")
        .values_list("pk", flat=True)
    )
    by_id = {s.target_id: s for s in target_statuses(target_ids=ids)}
    return [by_id[i] for i in ids]


def target_ids_tagged(*, tag: str, project_id: int | None = None) -> list[int]:
    """Targets carrying the tag named `tag`."""
    targets = Target.objects.filter(tags__name=tag)
    if project_id is not None:
        targets = targets.filter(project_id=project_id)
    return list(targets.order_by("pk").values_list("pk", flat=True))


def target_flips(*, target_id: int, limit: int = 500) -> list[Flip]:
    """A target's latest flips, newest first (the admin's history and the API's)."""
    return list(Flip.objects.filter(target_id=target_id).order_by("-at", "-id")[:limit])


@dataclass(frozen=True)
class LatestFlip:
    at: datetime
    new_status: str
    cause: FlipCause
    reason: str


def latest_flips(*, target_ids: list[int]) -> dict[int, LatestFlip]:
    """Why each target last changed status: its newest flip, by target id (targets that never
    flipped are left out).

    One query whatever the history: each target's newest flip is found by its own index
    lookup (target, -at) with LIMIT 1, never by reading the older ones. (DISTINCT ON would
    read every flip of the targets on PostgreSQL, which has no skip scan.)
    """
    newest = Flip.objects.filter(target_id=OuterRef("pk")).order_by("-at", "-id").values("pk")[:1]
    newest_ids = Target.objects.filter(pk__in=target_ids).values(flip_id=Subquery(newest))
    rows = Flip.objects.filter(pk__in=newest_ids).values_list("target_id", "at", "new_status", "cause", "reason")
    return {
        target_id: LatestFlip(at=at, new_status=new_status, cause=FlipCause(cause), reason=reason)
        for target_id, at, new_status, cause, reason in rows
    }


WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}


WHOLE_READ = 1000  # targets whose rollups uptime_by_target reads in one fetch


@dataclass(frozen=True)
class UptimeFigures:
    probes: int
    uptime_pct: float | None
    p50_ms: int | None
    p95_ms: int | None


def uptime_by_target(
    *, target_ids: list[int], window: timedelta, now: datetime, percentiles: bool = True
) -> dict[int, UptimeFigures]:
    """Figures over the last `window` up to the newest rolled-up minute.

    Read in layers, coarsest first: whole days (windows over 7 days) or whole hours as far as
    they are rolled up, then the hours and minutes after them. Reading closed hours alone left
    a new target at "—" for up to an hour. Two queries whatever the number of targets: a 90-day
    figure reads about 90 + 24 + 60 rows per target.

    percentiles=False reads the two counts only, leaving p50 and p95 at None: decoding each
    row's latency histogram was most of the admin list's 30-day column, which shows uptime only.
    A page of targets is read whole, not through iterator(): that is a server-side cursor on
    PostgreSQL, fetched in round trips (a third of the admin list's read); thousands of
    targets (the API's summary) still stream, to bound the memory.
    """
    tallies: dict[int, Tally] = defaultdict(Tally)
    rollups = _layered_rollups(target_ids, window=window, now=now)
    if not percentiles:
        counts = rollups.values_list("target_id", "count", "up_count")
        for target_id, count, up in counts if len(target_ids) <= WHOLE_READ else counts.iterator(chunk_size=2000):
            tally = tallies[target_id]
            tally.count += count
            tally.up += up
    else:
        rows = rollups.values_list("target_id", *ROLLUP_COUNTS)
        for target_id, *row in rows if len(target_ids) <= WHOLE_READ else rows.iterator(chunk_size=2000):
            tallies[target_id].add_counts(*row)
    return {
        target_id: UptimeFigures(
            probes=tally.count,
            uptime_pct=round(100 * tally.up / tally.count, 3) if tally.count else None,
            p50_ms=tally.percentile(0.5),
            p95_ms=tally.percentile(0.95),
        )
        for target_id, tally in tallies.items()
    }


def _layered_rollups(target_ids: list[int], *, window: timedelta, now: datetime) -> QuerySet[TargetRollup]:
    resolutions = [TargetRollup.Resolution.HOUR, TargetRollup.Resolution.MINUTE]
    if window > timedelta(days=7):
        resolutions.insert(0, TargetRollup.Resolution.DAY)
    done = dict(TargetRollupCursor.objects.values_list("resolution", "done_until"))
    start = floor_time(now - window, resolutions[0])
    spans = Q(pk__in=[])
    for resolution in resolutions:
        # Each layer covers what the coarser ones have not rolled up yet. Without a cursor
        # (rollups written by other means, e.g. an import), its closed buckets are taken as done.
        if resolution == resolutions[-1]:
            end = now
        else:
            end = min(done[resolution], now) if resolution in done else floor_time(now, resolution)
        if end > start:
            spans |= Q(resolution=resolution, bucket_start__gte=start, bucket_start__lt=end)
        start = max(start, end)
    return TargetRollup.objects.filter(spans, target_id__in=target_ids)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    probes: int
    uptime_pct: float | None
    mean_ms: int | None
    p50_ms: int | None
    p95_ms: int | None


def target_history(*, target_id: int, resolution: int, buckets: int, now: datetime) -> list[Bucket]:
    """One target's last `buckets` closed hours or days, oldest first, empty ones included."""
    return targets_history(target_ids=[target_id], resolution=resolution, buckets=buckets, now=now)[target_id]


def targets_history(*, target_ids: list[int], resolution: int, buckets: int, now: datetime) -> dict[int, list[Bucket]]:
    """`target_history` for many targets in one query (a status page's 90-day bars)."""
    last = floor_time(now, resolution) - timedelta(seconds=resolution)
    first = last - timedelta(seconds=resolution * (buckets - 1))
    rows = TargetRollup.objects.filter(
        target_id__in=target_ids, resolution=resolution, bucket_start__gte=first, bucket_start__lte=last
    ).values_list("target_id", "bucket_start", *ROLLUP_COUNTS)
    found: dict[int, dict[datetime, Tally]] = defaultdict(dict)
    for target_id, start, *counts in rows.iterator(chunk_size=2000):
        tally = Tally()
        tally.add_counts(*counts)
        found[target_id][start] = tally
    starts = [first + timedelta(seconds=resolution * i) for i in range(buckets)]
    return {
        target_id: [_bucket(start, found[target_id].get(start, Tally())) for start in starts]
        for target_id in target_ids
    }


def daily_counts(
    *, target_ids: list[int], days: int, now: datetime
) -> tuple[list[datetime], dict[int, list[tuple[int, int]]]]:
    """The last `days` closed days' starts, and per target (probes, answered probes) for each,
    zeros where nothing was rolled up. Only the two counts are read: a status page draws
    hundreds of 90-day bars from this one query, with no histogram to decode. The day comes
    back as text (its first ten characters are the UTC date on every backend, connections
    being in UTC): converting 18,000 timestamps cost more than the rest of the read."""
    last = floor_time(now, 86400) - timedelta(days=1)
    starts = [last - timedelta(days=days - 1 - i) for i in range(days)]
    index = {start.date().isoformat(): i for i, start in enumerate(starts)}
    counts = {target_id: [(0, 0)] * days for target_id in target_ids}
    rows = (
        TargetRollup.objects.filter(
            target_id__in=target_ids,
            resolution=TargetRollup.Resolution.DAY,
            bucket_start__gte=starts[0],
            bucket_start__lte=last,
        )
        .annotate(day=Cast("bucket_start", CharField()))
        .values_list("target_id", "day", "count", "up_count")
    )
    # Read whole rather than through iterator(): on PostgreSQL that is a server-side cursor,
    # planned for the first rows and fetched in round trips, twice as slow for 18,000 rows.
    for target_id, day, count, up in rows:
        counts[target_id][index[day[:10]]] = (count, up)
    return starts, counts


def _bucket(start: datetime, tally: Tally) -> Bucket:
    return Bucket(
        start=start,
        probes=tally.count,
        uptime_pct=round(100 * tally.up / tally.count, 3) if tally.count else None,
        mean_ms=round(tally.latency_sum / tally.latency_count) if tally.latency_count else None,
        p50_ms=tally.percentile(0.5),
        p95_ms=tally.percentile(0.95),
    )


def target_latency_bands(*, target_id: int, since: datetime, now: datetime, step: timedelta) -> list[Bucket]:
    """One target's response time per `step` from `since` up to now, the open step included,
    merged from minute rollups (one query; a day is at most 1,440 rows)."""
    seconds = int(step.total_seconds())
    first = floor_time(since, seconds)
    count = int((now - first).total_seconds() // seconds) + 1
    rows = TargetRollup.objects.filter(
        target_id=target_id, resolution=TargetRollup.Resolution.MINUTE, bucket_start__gte=first
    ).values_list("bucket_start", *ROLLUP_COUNTS)
    tallies = [Tally() for _ in range(count)]
    for start, *counts in rows.iterator(chunk_size=2000):
        index = int((start - first).total_seconds() // seconds)
        if 0 <= index < count:
            tallies[index].add_counts(*counts)
    return [_bucket(first + i * step, t) for i, t in enumerate(tallies)]


@dataclass(frozen=True)
class MinuteCounts:
    start: datetime
    probes: int
    up: int  # up or degraded: the target answered


def uptime_minutes(*, target_ids: list[int], since: datetime, until: datetime) -> list[MinuteCounts]:
    """Probes and answered probes per minute in [since, until), summed over the targets,
    empty minutes included: the good/total pairs of an availability objective."""
    since, until = floor_time(since, 60), floor_time(until, 60)
    rows = TargetRollup.objects.filter(
        target_id__in=target_ids,
        resolution=TargetRollup.Resolution.MINUTE,
        bucket_start__gte=since,
        bucket_start__lt=until,
    ).values_list("bucket_start", "count", "up_count")
    minutes = int((until - since).total_seconds() // 60)
    probes, up = [0] * minutes, [0] * minutes
    for start, count, up_count in rows.iterator(chunk_size=5000):
        index = int((start - since).total_seconds() // 60)
        probes[index] += count
        up[index] += up_count
    return [MinuteCounts(since + timedelta(minutes=i), probes[i], up[i]) for i in range(minutes)]


@dataclass(frozen=True)
class HourCounts:
    target_id: int
    start: datetime
    probes: int
    up: int  # up or degraded: the target answered


def hourly_counts(*, target_ids: list[int], since: datetime, until: datetime) -> list[HourCounts]:
    """Probes and answered probes per target and hour in [since, until), hours with no probe
    left out. Hour rollups outlive minute ones (UPTIME_ROLLUP_RETENTION_DAYS), so reports over
    past months read these."""
    rows = TargetRollup.objects.filter(
        target_id__in=target_ids,
        resolution=TargetRollup.Resolution.HOUR,
        bucket_start__gte=floor_time(since, 3600),
        bucket_start__lt=until,
    ).values_list("target_id", "bucket_start", "count", "up_count")
    return [HourCounts(*row) for row in rows.order_by("target_id", "bucket_start")]


def uptime_minutes_rolled_until() -> datetime | None:
    """Minute rollups are complete up to here (they settle a few minutes behind the probes)."""
    return (
        TargetRollupCursor.objects.filter(resolution=TargetRollup.Resolution.MINUTE)
        .values_list("done_until", flat=True)
        .first()
    )


@dataclass(frozen=True)
class TargetsOverview:
    """The dashboard's uptime tile: how many targets are in each status, and the worst ones."""

    counts: dict[str, int]
    failing: list[Target]  # down first, then degraded; longest-failing first within each


def targets_overview(*, limit: int = 10) -> TargetsOverview:
    """Two queries whatever the number of targets: a count per status and the failing few."""
    counts = dict(Target.objects.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    failing = list(
        Target.objects.filter(status__in=[Status.DOWN, Status.DEGRADED])
        .select_related("project")
        .only("name", "kind", "status", "status_changed_at", "last_error", "project__name", "project__slug")
        .order_by(Case(When(status=Status.DOWN, then=0), default=1), F("status_changed_at").asc(nulls_last=True), "pk")[
            :limit
        ]
    )
    return TargetsOverview(counts={s: counts.get(s, 0) for s in Status.values}, failing=failing)
