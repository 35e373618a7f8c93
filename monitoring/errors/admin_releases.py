"""A release's page: its commits, deploys, new and regressed issues, crash-free sessions and
users, and adoption. Served under the issue admin's URLs (ErrorIssueAdmin.get_urls), addressed
by project and version, as an issue page names the release it was first seen in.

Whoever may read issues may read releases: both come from the same SDK events."""

import math
from functools import partial

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode

from monitoring.errors.release_selectors import release_overview, releases_of
from monitoring.models import Release

# Each issue list shows this many; one more is read to tell that there are more.
ISSUES_SHOWN = 50


def _percent(share: float | None) -> str | None:
    """99.52 % for 0.99524: crash-free rates matter in their decimals. Rounded down, so one
    crash in 100,000 sessions does not read 100 %."""
    if share is None:
        return None
    return f"{math.floor(share * 10_000) / 100:.2f}".rstrip("0").rstrip(".") + " %"


def release_view(model_admin, request: HttpRequest, project_id: int, version: str) -> TemplateResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    release = get_object_or_404(Release.objects.select_related("project"), project_id=project_id, version=version)
    overview = release_overview(release, issues_limit=ISSUES_SHOWN + 1)
    health = overview.health
    others = [r for r in releases_of(version) if r.pk != release.pk]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Release {version}",
        "opts": model_admin.model._meta,
        "release": release,
        "commits": overview.commits,
        "deploys": overview.deploys,
        "new_issues": overview.new_issues[:ISSUES_SHOWN],
        "more_new_issues": len(overview.new_issues) > ISSUES_SHOWN,
        "regressed_issues": overview.regressed_issues[:ISSUES_SHOWN],
        "more_regressed_issues": len(overview.regressed_issues) > ISSUES_SHOWN,
        "issues_shown": ISSUES_SHOWN,
        # Every issue with an event of this release, not only those it brought.
        "stream_url": f"{reverse('admin:monitoring_errorissue_changelist')}?{urlencode({'release': version})}",
        "health": health,
        "crash_free_sessions": _percent(health.crash_free_sessions),
        "crash_free_users": _percent(health.crash_free_users),
        "adoption": _percent(overview.adoption),
        "other_projects": [
            (other, reverse("admin:monitoring_release", args=[other.project_id, other.version])) for other in others
        ],
    }
    return TemplateResponse(request, "admin/monitoring/errors/release.html", context)


def release_urls(model_admin) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view(partial(release_view, model_admin))
    # path, not str: a version sent by an SDK may hold a slash, though sentry-cli refuses one.
    return [path("releases/<int:project_id>/<path:version>/", view, name="monitoring_release")]
