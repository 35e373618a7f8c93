"""POST /api/<project_id>/security/?sentry_key=…: where browsers send security reports
(a CSP's report-uri and report-to, Expect-CT and HPKP report-uri). The key is in the URL:
a browser sends a report with no header of ours. Answers are Sentry's shapes."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from monitoring.errors.api import _answer, _auth_fields, _error, _rate_limited
from monitoring.errors.body import BadEncoding, BodyReader, BodyTooLarge
from monitoring.errors.ratelimit import rate_limit_wait
from monitoring.errors.security import InvalidReport, security_reports_parse
from monitoring.errors.services.ingest import security_reports_ingest
from monitoring.metrics.access import client_address
from monitoring.projects.services.ingest_keys import ingest_key_authenticate

CONTENT_TYPES = frozenset(
    {
        "application/csp-report",
        "application/reports+json",
        "application/expect-ct-report",
        "application/expect-ct-report+json",
        "application/json",  # older browsers' CSP reports, and HPKP's
    }
)


@csrf_exempt
def security_view(request: HttpRequest, project_id: int) -> HttpResponse:
    if request.method == "OPTIONS":
        return _answer(200, {})
    if request.method != "POST":
        return _error(405, "method not allowed; use POST", Allow="POST, OPTIONS")
    content_type = (request.content_type or "").lower()
    if content_type not in CONTENT_TYPES:
        return _error(415, f"Content-Type {content_type or '(none)'} is not a security report's")
    public_key = _auth_fields(request).get("sentry_key", "")
    if not public_key:
        return _error(401, "missing authorization information: sentry_key")
    key = ingest_key_authenticate(public_key=public_key, secret=None)
    if key is None:
        return _error(401, "invalid sentry_key (unknown or revoked)")
    if key.project_id != project_id:
        return _error(403, "sentry_key does not belong to this project")
    if wait := rate_limit_wait(key_id=key.pk):
        return _rate_limited(wait)
    limit = settings.ERRORS_MAX_EVENT_BYTES
    try:
        body = BodyReader(
            request, content_encoding=request.headers.get("Content-Encoding", ""), max_read=limit, max_size=limit
        ).read_all()
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except BadEncoding as exc:
        return _error(415, str(exc))
    try:
        reports = security_reports_parse(
            json.loads(body), content_type=content_type, user_agent=request.headers.get("User-Agent", "")[:500]
        )
    except (ValueError, RecursionError) as exc:  # InvalidReport is one
        detail = str(exc) if isinstance(exc, InvalidReport) else f"the body is not JSON: {exc}"
        return _error(400, f"invalid security report: {detail}")
    if wait := rate_limit_wait(key_id=key.pk, cost=len(reports.events) - 1):
        return _rate_limited(wait)
    event_id = security_reports_ingest(
        project=key.project, reports=reports, client_ip=client_address(request), received_at=timezone.now()
    )
    return _answer(201, {"id": event_id} if event_id else {})
