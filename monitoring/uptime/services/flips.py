"""The one flip writer: every change of a target's status, from every source, is built and stored here.

Probe results, heartbeat pings, the late-heartbeat detector (Sentry check-ins arrive as pings)
and the operator's pause and resume all move a target's status the same way: `target_flip`
moves the target in memory and returns the flip that records the move, with its cause and
reason, or None when the status is already there; `flips_record` stores a source's flips in one
statement. The source writes the target's own columns itself, in the same transaction, together
with whatever else it changes (a probe batch writes all its targets in one statement), so a
status and its last flip never disagree.
"""

from collections.abc import Iterable
from datetime import datetime

from monitoring.uptime.causes import FlipCause
from monitoring.uptime.models import Flip, Target

REASON_MAX = 500


def target_flip(*, target: Target, to: str, at: datetime, cause: FlipCause, reason: str) -> Flip | None:
    """Move `target` to status `to` at `at` (in memory only) and return the unsaved flip saying
    why; None when the target already has that status, so a repeated verdict records nothing."""
    if target.status == to:
        return None
    flip = Flip(
        target_id=target.pk,
        at=at,
        old_status=target.status,
        new_status=to,
        cause=FlipCause(cause),
        reason=reason[:REASON_MAX],
    )
    target.status = to
    target.status_changed_at = at
    return flip


def flips_record(*, flips: Iterable[Flip | None]) -> list[Flip]:
    """Store the flips `target_flip` made (its Nones skipped) in one statement; returns them
    with their ids. Nothing to store sends nothing."""
    return Flip.objects.bulk_create([flip for flip in flips if flip is not None])
