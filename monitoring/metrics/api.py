import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.metrics.access import metrics_access_allowed
from monitoring.metrics.registry import exposition

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def metrics_view(request):
    """The portal's request and task counters in the Prometheus text format."""
    if not metrics_access_allowed(request):
        return JsonResponse(
            {"error": "authorization: send 'Bearer <METRICS_TOKEN>' or scrape from an address in METRICS_ALLOWED_IPS"},
            status=403,
        )
    try:
        body, content_type = exposition(request.headers.get("Accept"))
    except (OSError, ValueError):
        # The shared folder is gone or unreadable (deleted by a cleanup, a full disk):
        # Prometheus records a failed scrape, the operator finds the reason in the log.
        logger.exception("cannot read the shared metrics folder")
        return JsonResponse({"error": "metrics: the shared metrics folder cannot be read"}, status=503)
    return HttpResponse(body, content_type=content_type)
