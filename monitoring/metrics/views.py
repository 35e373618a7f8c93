from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.metrics.access import metrics_access_allowed
from monitoring.metrics.registry import exposition


@never_cache
@require_safe
def metrics_view(request):
    """The portal's request and task counters in the Prometheus text format."""
    if not metrics_access_allowed(request):
        return JsonResponse(
            {
                "error": "authorization: send 'Bearer <METRICS_TOKEN>' "
                "or scrape from an address in METRICS_ALLOWED_IPS"
            },
            status=403,
        )
    body, content_type = exposition(request.headers.get("Accept"))
    return HttpResponse(body, content_type=content_type)
