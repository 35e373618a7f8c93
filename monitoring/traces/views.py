"""The trace page: one trace's spans as a waterfall, in the admin's frame. Login through the
admin's own gate; reading it takes the span view permission (every role's viewer has it).

The rows are written here with one format string, not by a template loop: at 1,000 spans the
template engine's per-variable cost (about 15 lookups and filters a row) was most of the
page's time; one format string a row keeps it a small part (tests/benchmarks/test_trace_page.py).
"""

import re
from html import escape

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from monitoring.traces.selectors import Row, trace_waterfall

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
# One waterfall row: the span's name, indented by depth; its bar on the time axis, in percent of
# it (red when failed); its duration. Three cells of the page's grid.
_ROW = (
    '<div class="p-1 border-b border-base-100 dark:border-base-800" data-span="{id}" data-depth="{depth}" '
    'style="padding-left:{indent}rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap" title="{text}">'
    '<span class="font-semibold">{name}</span> <span class="text-base-500">{text}</span></div>'
    '<div class="border-b border-base-100 dark:border-base-800" style="position:relative;height:1.75rem">'
    '<div class="span-bar" data-bar="{id}" title="{op} {text}: {ms:.2f} ms from {offset:.2f} ms{status}" '
    'style="position:absolute;top:0.35rem;height:1rem;left:{left:.3f}%;width:{width:.3f}%;border-radius:2px;'
    'background:{color}"></div></div>'
    '<div class="p-1 border-b border-base-100 dark:border-base-800 text-base-500" '
    'style="text-align:right;white-space:nowrap" data-duration="{id}">{ms:.2f} ms</div>'
)


def _rows_html(rows: list[Row]) -> SafeString:
    """Every row's cells. Each stored text is escaped once (it shows up to three times in a row)
    and the numbers are formatted by the format string; nothing else goes in unescaped."""
    out = []
    for row in rows:
        span = row.span
        op = escape(span.op)
        out.append(
            _ROW.format(
                id=escape(span.span_id),
                depth=row.depth,
                indent=row.depth + 1,
                text=escape(span.description),
                name=op or "span",
                op=op,
                ms=span.duration,
                offset=row.offset_ms,
                status=f" ({escape(span.status)})" if span.status else "",
                left=row.left,
                width=row.width,
                color="#dc2626" if row.failed else "#6366f1",
            )
        )
    return mark_safe("\n".join(out))  # every value above is escaped or a number


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
    context.update(
        waterfall=waterfall,
        rows_html=_rows_html(waterfall.rows),
        performance_url=reverse("admin:monitoring_performance"),
    )
    return TemplateResponse(request, "traces/trace.html", context)
