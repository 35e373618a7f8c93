"""The admin index: the portal's front door. Later parts add their panels here."""

from monitoring.selectors.projects import projects_with_dsns


def dashboard_callback(request, context):
    context.update({"title": "Dashboard", "projects": projects_with_dsns()})
    return context
