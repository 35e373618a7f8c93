"""The trace page: one trace's spans as a waterfall, in the admin's frame. Login through the
admin's own gate; reading it takes the span view permission (every role's viewer has it)."""

import re

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from monitoring.traces.selectors import trace_waterfall

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def trace_view(request: HttpRequest, trace_id: str) -> TemplateResponse:
    if not request.user.has_perm("monitoring.view_span"):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": f"Trace {trace_id[:32]}", "trace_id": trace_id[:32]}
    if not _TRACE_ID.match(trace_id):
        context["error"] = "trace_id: 32 hexadecimal digits, as the SDK sends it"
        return TemplateResponse(request, "traces/trace.html", context, status=400)
    waterfall = trace_waterfall(trace_id.lower())
    if waterfall is None:
        context["error"] = f"trace_id: no spans kept for trace {trace_id} (not sampled, or past retention)"
        return TemplateResponse(request, "traces/trace.html", context, status=404)
    context.update(waterfall=waterfall, performance_url=reverse("admin:monitoring_performance"))
    return TemplateResponse(request, "traces/trace.html", context)
