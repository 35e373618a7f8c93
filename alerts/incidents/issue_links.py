"""The incidents an error issue opened, for the issue page (monitoring.errors.links).

Registered from AlertsConfig.ready(): monitoring never imports alerts, so alerts offers this
to the page rather than the page reaching for it. An issue rule labels its alerts with
`issue_id` (alerts/rules/kinds/issues.py); the incident keeps the labels its alerts share.
"""

from django.db.models import Q
from django.urls import reverse

from alerts.models import Incident, IncidentAlert
from monitoring.errors.links import RelatedLink
from monitoring.models import ErrorIssue


def issue_incident_links(issue: ErrorIssue, limit: int) -> list[RelatedLink]:
    """The newest `limit` incidents whose alerts name the issue: one query."""
    key = str(issue.pk)
    named = IncidentAlert.objects.filter(labels__issue_id=key).values("incident_id")
    incidents = (
        Incident.objects.filter(Q(labels__issue_id=key) | Q(pk__in=named))
        .only("id", "title", "status", "severity", "opened_at")
        .order_by("-opened_at", "-id")[:limit]
    )
    return [
        RelatedLink(
            label=f"#{incident.pk} {incident.title}",
            url=reverse("admin:alerts_incident_change", args=[incident.pk]),
            status=f"{incident.get_status_display().lower()}, {incident.severity}",
            at=incident.opened_at,
        )
        for incident in incidents
    ]
