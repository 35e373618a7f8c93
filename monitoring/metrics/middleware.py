import logging
import time

from monitoring.metrics.registry import REQUEST_SECONDS, REQUESTS

logger = logging.getLogger(__name__)

# Any other method becomes "other": a label must not take whatever a client sends.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class MetricsMiddleware:
    """Counts and times each request by method, status and URL pattern."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            labels = (_method(request), _route(request), str(response.status_code))
            REQUESTS.labels(*labels).inc()
            REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        except Exception:  # counting must never cost the client its answer
            logger.warning("could not record request metrics", exc_info=True)
        return response


def _method(request) -> str:
    return request.method if request.method in KNOWN_METHODS else "other"


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED
