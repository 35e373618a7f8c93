"""Pages people open for error tracking, outside the admin's own pages."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from monitoring.models import ErrorAttachment


@staff_member_required
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """An event's attachment, as a download: never shown inline, so a file an SDK sent (an
    HTML page, an SVG) cannot run in the portal's origin."""
    if not request.user.has_perm("monitoring.view_errorevent"):
        raise PermissionDenied
    attachment = ErrorAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("no such attachment")
    response = HttpResponse(bytes(attachment.data), content_type="application/octet-stream")
    safe_name = attachment.name.replace('"', "").replace("\r", "").replace("\n", "")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
