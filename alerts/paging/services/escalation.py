"""Escalation: page the policy's steps, one after another, until someone acknowledges.

The policy is frozen into the incident when escalation starts, repeats already unrolled,
so editing a policy never moves a page that is on its way. `escalation_level` is the index
of the next step to page and `next_escalation_at` when; the beat tick claims a due
incident and moves both in one conditional UPDATE, so a step is paged at most once
however many ticks race, and never after an acknowledgement has committed.
"""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q

from alerts.delivery.services.outbox import notifications_create
from alerts.incidents.services.noise import mute_reason
from alerts.models import Channel, EscalationPolicy, Incident, IncidentEvent, OnCallSchedule
from alerts.paging.services.schedules import oncall_users

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own

log = logging.getLogger(__name__)

BATCH = 200
# A repeated round starts no sooner than this after the last step, even when every step
# of the policy has no delay: a repeat is a reminder, not a burst.
REPEAT_MIN_MINUTES = 5


class _PolicyStep(TypedDict):
    delay_minutes: int
    channel_ids: list[int]
    schedule_id: int | None
    user_ids: list[int]


class SnapshotStep(_PolicyStep):
    """One page of an incident's frozen escalation, as kept in `Incident.escalation_snapshot`."""

    step: int  # 1-based within a round
    round: int  # 1-based
    wait_minutes: int  # after the previous page (or the start) before this one
    policy: str


def escalation_snapshot(policy: EscalationPolicy) -> list[SnapshotStep]:
    steps = list(policy.steps.prefetch_related("channels", "users").order_by("order", "id"))
    base: list[_PolicyStep] = [
        {
            "delay_minutes": step.delay_minutes,
            "channel_ids": sorted(c.pk for c in step.channels.all()),
            "schedule_id": step.schedule_id,
            "user_ids": sorted(u.pk for u in step.users.all()),
        }
        for step in steps
    ]
    if not base:
        return []
    repeat_wait = max(REPEAT_MIN_MINUTES, *(s["delay_minutes"] for s in base))
    unrolled: list[SnapshotStep] = []
    for round_ in range(policy.repeat + 1):
        for index, step in enumerate(base):
            wait = step["delay_minutes"]
            if round_ and index == 0:
                wait = max(wait, repeat_wait)
            unrolled.append(
                {**step, "step": index + 1, "round": round_ + 1, "wait_minutes": wait, "policy": policy.name}
            )
    return unrolled


def escalation_start(*, incident: Incident, policy: EscalationPolicy, now: datetime) -> None:
    """Freeze `policy` into the incident and schedule its first step (called when the incident
    opens, reopens or comes out of a snooze: always from the first step)."""
    snapshot = escalation_snapshot(policy)
    incident.escalation_snapshot = snapshot
    incident.escalation_level = 0
    incident.next_escalation_at = now + timedelta(minutes=snapshot[0]["wait_minutes"]) if snapshot else None
    incident.save(update_fields=["escalation_snapshot", "escalation_level", "next_escalation_at"])


def escalations_advance(*, now: datetime) -> int:
    """Page every due step of triggered incidents; returns how many steps were paged."""
    due = list(
        Incident.objects.filter(next_escalation_at__lte=now, status=Incident.Status.TRIGGERED)
        .order_by("next_escalation_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(1 for pk in due if _advance_one(incident_id=pk, now=now))


@transaction.atomic
def _advance_one(*, incident_id: int, now: datetime) -> bool:
    due = Q(pk=incident_id, next_escalation_at__lte=now, status=Incident.Status.TRIGGERED) & (
        Q(snoozed_until=None) | Q(snoozed_until__lte=now)
    )
    rows = Incident.objects.filter(due)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    incident = rows.first()
    if incident is None:
        return False  # another tick holds it, or an ack got there first
    level = incident.escalation_level
    snapshot: list[SnapshotStep] = incident.escalation_snapshot or []
    if level >= len(snapshot):
        Incident.objects.filter(pk=incident.pk).update(next_escalation_at=None)
        return False
    following = now + timedelta(minutes=snapshot[level + 1]["wait_minutes"]) if level + 1 < len(snapshot) else None
    claimed = Incident.objects.filter(due, escalation_level=level).update(
        escalation_level=level + 1, next_escalation_at=following
    )
    if claimed != 1:
        return False
    _page(incident=incident, step=snapshot[level], level=level, now=now)
    return True


def _page(*, incident: Incident, step: SnapshotStep, level: int, now: datetime) -> None:
    channels = list(Channel.objects.filter(pk__in=step["channel_ids"], enabled=True))
    users = _step_users(step, now=now)
    unreachable = []
    for user in users:
        own = user_channels(user=user)
        if not own:
            unreachable.append(user.get_username())
        channels.extend(c for c in own if c not in channels)
    who = [u.get_username() for u in users]
    message = f"Step {step['step']}" + (f" (round {step['round']})" if step["round"] > 1 else "")
    message += ": paging " + (", ".join(who + [f"#{c.name}" for c in step_channels(channels, users)]) or "nobody")
    if unreachable:
        message += f"; no channel or email for {', '.join(unreachable)}"
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        kind=IncidentEvent.Kind.ESCALATED,
        message=message,
        data={
            "level": level,
            "step": step["step"],
            "round": step["round"],
            "user_ids": [u.pk for u in users],
            "usernames": who,
            "channel_ids": [c.pk for c in channels],
            "schedule_id": step["schedule_id"],
        },
    )
    reason = _mute_reason(incident, now=now)
    notifications_create(
        event=event, channels=channels, now=now, muted={c.pk: reason for c in channels} if reason else None
    )


def step_channels(channels: list[Channel], users: list["User"]) -> list[Channel]:
    """The step's shared channels, as opposed to the people's own."""
    user_ids = {u.pk for u in users}
    return [c for c in channels if c.user_id not in user_ids]


def _step_users(step: SnapshotStep, *, now: datetime) -> list["User"]:
    User = get_user_model()
    users = list(User.objects.filter(pk__in=step["user_ids"], is_active=True).order_by("pk"))
    if step["schedule_id"] is not None:
        schedule = OnCallSchedule.objects.filter(pk=step["schedule_id"]).first()
        if schedule is not None:
            users.extend(u for u in oncall_users(schedule=schedule, at=now) if u not in users)
    return users


def user_channels(*, user: "User") -> list[Channel]:
    """The channels that reach `user`: their own enabled channels; with none, an email channel
    to their address, made on first use as an ordinary channel of theirs (so a page is one
    outbox row per step like any other, and they can edit or disable it in the admin)."""
    own = list(Channel.objects.filter(user=user, enabled=True).order_by("pk"))
    if own or not user.email:
        return own
    channel, _ = Channel.objects.get_or_create(
        user=user,
        kind=Channel.Kind.EMAIL,
        name=f"Email to {user.get_username()}"[:200],
        defaults={"config": {"to": [user.email]}},
    )
    return [channel] if channel.enabled else []


def _mute_reason(incident: Incident, *, now: datetime) -> str | None:
    """Muted only when every firing alert is (a silence, maintenance…); pages about the rest go out."""
    labels = [a.labels for a in incident.alerts.filter(status="firing")] or [incident.labels]
    reasons = [mute_reason(labels=lbl, now=now) for lbl in labels]
    return reasons[0] if all(reasons) else None
