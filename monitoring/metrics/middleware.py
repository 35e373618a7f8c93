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
            labels = (_method(request), _route(request), response.status_code)
            series = _series.get(labels)
            if series is None:
                series = _series[labels] = _children(labels)
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
        except Exception:  # counting must never cost the client its answer
            logger.warning("could not record request metrics", exc_info=True)
        return response


# Each label set's two children, found once: looking them up by labels on every request took
# two thirds of the counting. The sets are bounded, as the labels are (method, pattern, status).
_series: dict[tuple[str, str, int], tuple] = {}


def _children(labels: tuple[str, str, int]) -> tuple:
    method, route, status = labels
    return REQUESTS.labels(method, route, str(status)), REQUEST_SECONDS.labels(method, route, str(status))


def _method(request) -> str:
    return request.method if request.method in KNOWN_METHODS else "other"


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED
