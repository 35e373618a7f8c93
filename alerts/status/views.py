"""The public status page: no login, no script, nothing loaded from another host."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alerts.status.models import StatusPage
from alerts.status.selectors import SNAPSHOT_SECONDS, page_by_slug, page_snapshot

# Everything the page needs is inline; the policy says so to the browser as well.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


def requested_page(request: HttpRequest, slug: str | None) -> StatusPage | None:
    """The page named in the path, or the one whose custom domain the request came to."""
    return page_by_slug(slug or getattr(request, "status_slug", ""))


def page_base(request: HttpRequest, page: StatusPage) -> str:
    return "/" if getattr(request, "status_slug", None) else f"/status/{page.slug}/"


@require_GET
def status_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page = requested_page(request, slug)
    if page is None:
        raise Http404("No status page here.")
    snapshot = page_snapshot(page=page)
    response = render(request, "status/page.html", {"s": snapshot, "base": page_base(request, page)})
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    response["Content-Security-Policy"] = PAGE_CSP
    return response
