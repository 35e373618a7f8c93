"""Recording a login lockout as a security event.

A lockout is a SecurityEvent of kind account_lockout (the portal's own, no project), the way
applications' events are stored, so the admin lists it and a security_event rule can alert
on it. It is also a log line on the `lookout.security` logger whose `security_event` field is
structured (the JSON formatter keeps it as its own field), and a Prometheus counter by kind.
The evidence itself (every failed attempt, by account, address and user agent) stays in
axes' own tables, shown in the admin.
"""

import logging
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import Counter

from monitoring.security.models import SecurityEvent
from monitoring.security.services import security_event_record

log = logging.getLogger("lookout.security")

SECURITY_EVENTS = Counter(
    "lookout_security_events",
    "Security events recorded by the portal, by kind (e.g. login_locked_out).",
    ["kind"],
)
LOGIN_LOCKED_OUT = "login_locked_out"


def login_lockout_record(
    *, username: str | None, ip_address: str | None, failures: int, endpoint: str = "", user_agent: str = ""
) -> None:
    """A login lockout, as a stored security event, a structured log line and a counter."""
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_LOCKOUT,
        at=timezone.now(),
        ip_address=ip_address,
        endpoint=endpoint,
        user_agent=user_agent,
        user=username or "",
        detail={"failures": failures},
    )
    SECURITY_EVENTS.labels(kind=LOGIN_LOCKED_OUT).inc()
    log.warning(
        "login locked out: account %r from %s after %d failures",
        username,
        ip_address,
        failures,
        extra={
            "security_event": {
                "kind": LOGIN_LOCKED_OUT,
                "username": username,
                "ip_address": ip_address,
                "failures": failures,
            }
        },
    )


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, which also records the moment a lockout starts.

    A failure while already locked (the right password from yet another address, say) is
    counted by axes again; only the failure that crosses the limit is a new event.
    """

    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        already_locked = request is not None and self.is_locked(request, credentials)
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or already_locked or not getattr(request, "axes_locked_out", False):
            return
        login_lockout_record(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
            failures=getattr(request, "axes_failures_since_start", 0),
            endpoint=request.path,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
