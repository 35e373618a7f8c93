"""The portal reporting its own errors to Sentry (or to another Lookout)."""

from typing import TYPE_CHECKING

from monitoring.common.scrubbing import scrub

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

# Exceptions that mean "the client asked for something wrong": a 4xx answer, not a bug.
CLIENT_ERROR_TYPES = {
    "Http404",
    "PermissionDenied",
    "SuspiciousOperation",
    "BadRequest",
    "DisallowedHost",
    "RequestDataTooBig",
    "TooManyFieldsSent",
    "ValidationError",
    "NotAuthenticated",
    "AuthenticationFailed",
    "Throttled",
    "NotFound",
    "MethodNotAllowed",
    "ParseError",
    "UnsupportedMediaType",
    "NotAcceptable",
}


def _is_client_error(hint: "Hint") -> bool:
    exc_info = hint.get("exc_info")
    if not exc_info:
        return False
    exc = exc_info[1]
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return 400 <= status < 500
    return type(exc).__name__ in CLIENT_ERROR_TYPES


def before_send(event: "Event", hint: "Hint") -> "Event | None":
    if _is_client_error(hint):
        return None
    return scrub(event)


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"lookout@{release}",
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        before_send=before_send,
    )
