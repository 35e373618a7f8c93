"""The id of the request (or task) being handled, for logs and for tasks it enqueues."""

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Accept a caller's id only if it is short and plain, so it is safe in logs and headers.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_or_new(value: str | None) -> str:
    return value if value and _VALID.match(value) else uuid.uuid4().hex
