"""The metrics Lookout keeps about itself, and their exposition across processes."""

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

# Labels stay few and bounded: a route is the URL pattern, never the raw path.
REQUESTS = Counter("lookout_http_requests", "HTTP requests answered by the portal.", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "lookout_http_request_duration_seconds",
    "Time to answer an HTTP request, middleware included.",
    ["method", "route", "status"],
)
CACHE_UNREACHABLE = Counter(
    "lookout_cache_unreachable",
    "Shared-cache reads and writes that a request went without, because the cache was unreachable.",
    ["operation"],
)
TASKS = Counter("lookout_celery_tasks", "Celery tasks finished, by final state.", ["task", "state"])
TASK_SECONDS = Histogram("lookout_celery_task_duration_seconds", "Time a Celery task ran.", ["task", "state"])


def exposition(accept: str | None) -> tuple[bytes, str]:
    """Every process's values on this host, merged, in the format the scraper asked for
    (OpenMetrics or the Prometheus text format); returns the body and its content type."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type
