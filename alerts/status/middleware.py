"""Serve a status page on its custom domain: a request whose Host is a page's domain is routed
through the status URLs mounted at the root, so / is the page and /api/v2/summary.json its JSON."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from alerts.status.selectors import page_slug_for_host


class CustomDomainMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = page_slug_for_host(request.get_host().rsplit(":", 1)[0])
        if slug is not None:
            request.urlconf = "alerts.status.domain_urls"
            request.status_slug = slug  # type: ignore[attr-defined]
        return self.get_response(request)
