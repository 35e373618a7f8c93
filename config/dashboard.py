"""The admin index: the portal's front door. Later parts add their panels here."""

from monitoring.health.selectors import health_summary
from monitoring.projects.selectors import projects_with_dsns


def dashboard_callback(request, context):
    context.update({"title": "Dashboard", "projects": projects_with_dsns(), "health": health_summary()})
    return context
