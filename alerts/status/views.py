"""The public status page: no login, no script, nothing loaded from another host."""

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from alerts.status.models import StatusPage
from alerts.status.selectors import SNAPSHOT_SECONDS, page_by_slug, page_snapshot

# Everything the page needs is inline; the policy says so to the browser as well.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


def requested_page(request: HttpRequest, slug: str | None) -> StatusPage | None:
    """The page named in the path, or the one whose custom domain the request came to."""
    return page_by_slug(slug or str(getattr(request, "status_slug", "")))


def page_base(request: HttpRequest, page: StatusPage) -> str:
    return "/" if getattr(request, "status_slug", None) else f"/status/{page.slug}/"


def bar_html(days: list[tuple[str, str]]) -> str:
    """A component's 90 day boxes, joined here: 90 × hundreds of template nodes were most of
    a large page's render time. States are our own words and tooltips come escaped."""
    return mark_safe("".join([f'<span class="{state}" title="{label}"></span>' for state, label in days]))


@require_GET
def status_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page = requested_page(request, slug)
    if page is None:
        raise Http404("No status page here.")
    base = page_base(request, page)
    # The rendered page is cached under the same version as the snapshot it shows.
    key = f"status:html:{page.pk}:{page.content_version}:{base}"
    html = cache.get(key)
    if html is None:
        snapshot = page_snapshot(page=page, bars=True)
        for row in snapshot["components"]:
            row["bar"] = bar_html(row["days"])
        # Grouped components first, then those in no group, drawn by one loop.
        sections = [*snapshot["groups"], {"name": None, "components": snapshot["loose"]}]
        html = render_to_string("status/page.html", {"s": snapshot, "sections": sections, "base": base})
        cache.set(key, html, SNAPSHOT_SECONDS)
    response = HttpResponse(html)
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    response["Content-Security-Policy"] = PAGE_CSP
    return response
