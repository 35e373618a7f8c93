"""The health endpoints: /health, /health/live, /health/ready and /health/<component>."""

import time

from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views import View
from health_check.views import HealthCheckView

from monitoring.health.report import CONTENT_TYPE, FAIL, health_body
from monitoring.health.runner import COMPONENTS, EVERYTHING, READY, run_checks


class HealthView(HealthCheckView):
    """Answers application/health+json: 200 for pass and warn, 503 for fail.

    The library's dispatch keeps the answer out of every cache (no-store) and outside
    any request transaction; its content negotiation is not used, the format is fixed.
    """

    checks = ()
    components: tuple[str, ...] = EVERYTHING

    async def dispatch(self, request, *args, **kwargs):
        self.started = time.perf_counter()
        return await super().dispatch(request, *args, **kwargs)

    async def get(self, request, *args, **kwargs):
        return _answer(await run_checks(self.components), started=self.started)


def _answer(results, *, started: float) -> JsonResponse:
    body = health_body(results, response_time_ms=(time.perf_counter() - started) * 1000)
    status = 503 if body["status"] == FAIL else 200
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    # A failing check is the answer, not a server error: without this, Django logs
    # every poll of a 503 at ERROR (and Sentry turns each into an event).
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's private flag, not in the stubs
    return response


class LiveView(View):
    """The process answers: no check at all, so no query, no cache, no I/O.

    A plain view rather than HealthView with nothing to await: under WSGI an async view
    hands each request to a thread and back, which made this, the probe a load balancer
    sends most often, cost half again the CPU of a heartbeat ping.
    """

    def get(self, request, *args, **kwargs):
        response = _answer([], started=time.perf_counter())
        patch_vary_headers(response, ["Accept"])  # as HealthView's responses are
        add_never_cache_headers(response)
        return response


class ReadyView(HealthView):
    components = READY


class ComponentView(HealthView):
    async def get(self, request, *args, component: str, **kwargs):
        if component not in COMPONENTS:
            return JsonResponse(
                {"error": f"component: unknown {component!r}; one of {', '.join(COMPONENTS)}"},
                status=404,
            )
        self.components = (component,)
        return await super().get(request, *args, **kwargs)
