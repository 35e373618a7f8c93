"""Serve a status page on its custom domain: a request whose Host is a page's domain is routed
through the status URLs mounted at the root, so / is the page and /api/v2/summary.json its JSON."""

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from alerts.status.selectors import page_slug_for_host
from monitoring.common.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

# Machine paths of the portal never look the host up: a cache or database hiccup must not turn
# a ping or an envelope into an error because of a feature it does not use. Everything else
# does, so a page's domain answers only with the page (its admin is not reachable there).
_PORTAL_ONLY = ("/api/", "/ping/", "/health", "/metrics", "/static/")
_PAGE_API = "/api/v2/"


class CustomDomainMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(_PAGE_API) or not path.startswith(_PORTAL_ONLY):
            slug = self._slug(request)
            if slug is not None:
                request.urlconf = "alerts.status.domain_urls"
                request.status_slug = slug  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def _slug(request: HttpRequest) -> str | None:
        try:
            return page_slug_for_host(request.get_host().rsplit(":", 1)[0])
        except (DatabaseError, *CACHE_ERRORS) as error:
            # The portal's own routes still answer; the custom domain comes back with its store.
            logger.warning("status page domains unavailable (%s); serving the portal's routes", error)
            return None
