"""Store a batch of probe results and move each target's status through debounce and quorum."""

from collections.abc import Sequence

from django.db import transaction

from monitoring.common.batch_update import batch_update
from monitoring.models import Flip, ProbeResult, Status, Target
from monitoring.uptime.causes import FlipCause
from monitoring.uptime.probes.base import UP
from monitoring.uptime.probes.runner import Probed
from monitoring.uptime.services.config import STATUS_FIELDS
from monitoring.uptime.services.debounce import (
    Rules,
    flip_cause,
    flip_reason,
    region_observe,
    target_silent_regions,
    target_verdict,
)
from monitoring.uptime.services.flips import flips_record, target_flip

_STATE_FIELDS = [*STATUS_FIELDS, "region_states"]


@transaction.atomic
def probe_results_record(*, region: str, probed: Sequence[Probed]) -> list[Flip]:
    """Write the batch's results in one statement, then apply them to the targets' status.

    The targets are locked while their status moves, so two regions reporting on the same
    target at once take turns instead of overwriting each other's history.
    """
    if not probed:
        return []
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(
                target_id=p.target_id,
                checked_at=p.checked_at,
                region=region,
                outcome=p.outcome.outcome,
                latency_ms=p.outcome.latency_ms,
                dns_ms=p.outcome.dns_ms,
                connect_ms=p.outcome.connect_ms,
                tls_ms=p.outcome.tls_ms,
                first_byte_ms=p.outcome.first_byte_ms,
                status_code=p.outcome.status_code,
                error=p.outcome.error[:300],
            )
            for p in probed
        ]
    )
    targets = {
        t.pk: t
        for t in Target.objects.select_for_update()
        .filter(pk__in=[p.target_id for p in probed], paused=False)
        .only(
            "pk",
            "kind",
            "paused",
            "created_at",
            "interval_seconds",
            "regions",
            "quorum",
            "down_after_failures",
            "failure_window",
            "up_after_successes",
            *_STATE_FIELDS,
        )
    }
    flips = []
    for p in sorted(probed, key=lambda p: p.checked_at):
        target = targets.get(p.target_id)
        if target is None:  # deleted or paused since it was dispatched
            continue
        flip = _apply(target, region=region, probed=p)
        if flip:
            flips.append(flip)
    # Every target's state in one statement: bulk_update's CASE expressions cost more than the probes.
    batch_update(model=Target, rows=targets.values(), fields=_STATE_FIELDS)
    return flips_record(flips=flips)


def _apply(target: Target, *, region: str, probed: Probed) -> Flip | None:
    rules = Rules.of(target)
    states = dict(target.region_states or {})
    previous = states.get(region) or {}
    failed = probed.outcome.outcome != UP
    states[region] = {
        **region_observe(previous, probed.outcome.outcome, rules=rules),
        "error": probed.outcome.error[:200],
        # The last failure's cause, kept through recovering probes: a region still down while
        # it waits for K successes is down for that reason.
        "cause": str(probed.outcome.cause or FlipCause.UNKNOWN) if failed else previous.get("cause", ""),
        # When this region last reported: a region silent for two intervals no longer votes.
        "at": probed.checked_at.isoformat(),
    }
    target.region_states = states
    target.last_checked_at = probed.checked_at
    target.last_latency_ms = probed.outcome.latency_ms
    target.last_error = probed.outcome.error[:300]
    if probed.outcome.cert_expires_at:
        target.cert_expires_at = probed.outcome.cert_expires_at
    if region not in target.regions:  # a region removed since dispatch: kept as a result, no vote
        return None
    regions, quorum = target.regions, target.effective_quorum
    silent = target_silent_regions(target, now=probed.checked_at)
    new_status = target_verdict(states, regions=regions, quorum=quorum, silent=silent)
    if new_status == target.status or new_status == Status.UNKNOWN:
        return None
    return target_flip(
        target=target,
        to=new_status,
        at=probed.checked_at,
        cause=flip_cause(new_status=new_status, region_states=states, regions=regions, first=region),
        reason=flip_reason(
            new_status=new_status,
            region_states=states,
            regions=regions,
            quorum=quorum,
            errors={r: s.get("error", "") for r, s in states.items()},
            rules=rules,
        ),
    )
