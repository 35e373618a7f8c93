"""The on-call pages: what a person on call works from. Thin: reads in selectors.py, writes
through the incident services; every change is a CSRF-protected POST."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from alerts.incidents.selectors import incident_sources, incidents_with_mutes
from alerts.incidents.services.incidents import (
    incident_acknowledge,
    incident_comment,
    incident_resolve,
    incident_snooze,
)
from alerts.models import Incident
from alerts.paging.selectors import (
    OPEN_LIMIT,
    SNOOZES,
    incidents_escalated_to,
    open_incidents,
    schedules_now,
    snooze_until,
)

# The roles' permissions (monitoring/projects/roles.py): a viewer reads these pages, a
# responder (alerts.change_incident, as the incident admin's actions ask) acts on them.
may_read = permission_required("alerts.view_incident", raise_exception=True)
may_respond = permission_required("alerts.change_incident", raise_exception=True)


@login_required
@may_read
def team(request):
    now = timezone.now()
    return render(
        request,
        "alerts/oncall/team.html",
        {
            "now": now,
            "schedules": schedules_now(now=now),
            # Muted ones say so, with why: "triggered" alone reads as "someone is being paged".
            "incidents": incidents_with_mutes(open_incidents()[:OPEN_LIMIT], now=now),
            "snoozes": SNOOZES,
        },
    )


@login_required
@may_read
def mine(request):
    now = timezone.now()
    return render(
        request,
        "alerts/oncall/mine.html",
        {
            "now": now,
            "incidents": incidents_with_mutes(incidents_escalated_to(user=request.user), now=now),
            "snoozes": SNOOZES,
        },
    )


@login_required
@may_read
def incident(request, pk: int):
    item = get_object_or_404(
        Incident.objects.select_related("project", "rule", "integration", "acknowledged_by", "resolved_by"), pk=pk
    )
    now = timezone.now()
    alerts = list(item.alerts.all())
    (item,) = incidents_with_mutes([item], now=now, alerts=alerts)
    return render(
        request,
        "alerts/oncall/incident.html",
        {
            "now": now,
            "incident": item,
            "alerts": alerts,
            "sources": incident_sources(incident=item, alerts=alerts),
            "events": list(item.events.select_related("actor")),
            "snoozes": SNOOZES,
        },
    )


def _act(request, pk: int, work, done: str):
    item = get_object_or_404(Incident, pk=pk)
    try:
        work(item, timezone.now())
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"#{item.pk} {done}.")
    target = request.POST.get("next", "")
    if target.startswith("/oncall/") and "//" not in target:  # back to the page the button was on, never off-site
        return redirect(target)
    return redirect("oncall:incident", pk=pk)


@login_required
@may_respond
@require_POST
def acknowledge(request, pk: int):
    return _act(
        request, pk, lambda i, now: incident_acknowledge(incident=i, actor=request.user, now=now), "acknowledged"
    )


@login_required
@may_respond
@require_POST
def resolve(request, pk: int):
    return _act(
        request,
        pk,
        lambda i, now: incident_resolve(
            incident=i, actor=request.user, now=now, message=request.POST.get("message", "").strip()
        ),
        "resolved",
    )


@login_required
@may_respond
@require_POST
def snooze(request, pk: int):
    choice = request.POST.get("for", "")

    def work(item, now):
        until = snooze_until(choice, now=now)
        if until is None:
            raise ValidationError(f"Snooze for one of: {', '.join(SNOOZES.values())}.")
        incident_snooze(incident=item, actor=request.user, until=until, now=now)

    return _act(request, pk, work, f"snoozed {SNOOZES.get(choice, '')}".strip())


@login_required
@may_respond
@require_POST
def comment(request, pk: int):
    return _act(
        request,
        pk,
        lambda i, now: incident_comment(
            incident=i, actor=request.user, message=request.POST.get("message", ""), now=now
        ),
        "commented",
    )
