"""The id of the request (or task) being handled, for logs and for tasks it enqueues."""

import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Accept a caller's id only if it is short and plain, so it is safe in logs and headers.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_or_new(value: str | None) -> str:
    return value if value and _VALID.match(value) else uuid.uuid4().hex


def _forget_request_id(**_) -> None:
    request_id_var.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="lookout.forget_request_id")
