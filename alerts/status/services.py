"""Writes to status pages. Every write bumps the page's `content_version` in the same
transaction, which is what drops the cached page and JSON: readers key their cache on it
(selectors.py). Probe facts are not written here; a short cache lifetime covers them.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.status.models import Component, IncidentStatus, PublicIncident, PublicIncidentUpdate, StatusPage
from alerts.status.selectors import forget_domains, forget_pages
from alerts.status.subscribers import update_announce


def status_page_touch(*, page_id: int) -> None:
    """Tell readers the page changed: its cached copies are stale from now on."""
    StatusPage.objects.filter(pk=page_id).update(content_version=F("content_version") + 1, updated_at=timezone.now())
    # This process's copy of the version is dropped now and again once the change is
    # committed, so no request in between keeps the old one.
    forget_pages()
    transaction.on_commit(forget_pages)
    # The custom-domain map is small and read on every request; rebuilding it is one query.
    transaction.on_commit(forget_domains)


def component_override_set(*, component: Component, status: str, note: str = "") -> Component:
    """Show `status` instead of the computed one (an empty status clears the override)."""
    with transaction.atomic():
        component.status_override = status
        component.override_note = note if status else ""
        component.save(update_fields=["status_override", "override_note", "updated_at"])
        status_page_touch(page_id=component.page_id)
    return component


def public_incident_create(
    *,
    page: StatusPage,
    name: str,
    body: str,
    status: str = IncidentStatus.INVESTIGATING,
    impact: str = PublicIncident.Impact.MINOR,
    components: list[Component] | None = None,
    internal_incident_id: int | None = None,
    at: datetime | None = None,
) -> PublicIncident:
    at = at or timezone.now()
    with transaction.atomic():
        incident = PublicIncident.objects.create(
            page=page, name=name, impact=impact, internal_incident_id=internal_incident_id, started_at=at, created_at=at
        )
        if components:
            incident.components.set(components)
        public_incident_update_add(incident=incident, status=status, body=body, at=at)
    return incident


def public_incident_update_add(
    *, incident: PublicIncident, status: str, body: str, at: datetime | None = None
) -> PublicIncidentUpdate:
    """Post an update; the incident takes its status, and is resolved (or reopened) with it."""
    at = at or timezone.now()
    with transaction.atomic():
        update = PublicIncidentUpdate.objects.create(incident=incident, status=status, body=body, created_at=at)
        incident.status = status
        incident.resolved_at = at if status == IncidentStatus.RESOLVED else None
        incident.save(update_fields=["status", "resolved_at", "updated_at"])
        status_page_touch(page_id=incident.page_id)
        # Written with the update, so subscribers hear of every update that commits, once.
        update_announce(update=update, now=at)
    return update


def incident_status_sync(*, incident: PublicIncident) -> None:
    """After updates were edited by hand (admin inline), take the newest one's status."""
    newest = incident.updates.order_by("-created_at", "-pk").first()
    if newest is None:
        return
    incident.status = newest.status
    incident.resolved_at = newest.created_at if newest.status == IncidentStatus.RESOLVED else None
    incident.save(update_fields=["status", "resolved_at", "updated_at"])
