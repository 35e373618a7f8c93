"""sentry-sdk's session items, read into counts: `session` (one session's update) and
`sessions` (pre-aggregated counts, what server SDKs send). Pure; no database.

Counted as Sentry counts release health (develop.sentry.dev/sdk/telemetry/sessions):
- crashed: the session ended `crashed`. Crash-free sessions and users are the share not
  crashed; nothing else lowers them.
- unhandled: an unhandled error that did not end the process (browser SDKs report every
  uncaught error so, since a page goes on after one). Sentry split it out of `crashed` for
  that reason, so here it is an errored session, not a crash.
- errored: the session saw an error, as an `errored`/`unhandled` status or an `errors`
  count above 0 in any update, also one still `ok` (browser sessions never end, so their
  first error is sent as an `ok` update with `errors: 1`). Counted once per session: the
  SDK sends that update and then the end with the same count, so the caller de-duplicates
  by `sid` (SessionCounts.errored_sid).
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("sessions", "errored", "crashed", "abnormal")
# Statuses a session ends with; "ok" means it is still running.
ENDED = frozenset({"exited", "errored", "crashed", "abnormal", "unhandled"})


class InvalidSession(ValueError):
    pass


@dataclass(frozen=True)
class SessionCounts:
    """Sessions of one release and environment, counted from one item."""

    release: str
    environment: str
    counts: Counter  # keys from OUTCOMES
    users: dict[str, bool]  # distinct id -> crashed
    # The session an `errored` count belongs to, when a later update of it could count it again.
    errored_sid: str = ""


def _attrs(payload: Any) -> tuple[str, str]:
    attrs = payload.get("attrs") if isinstance(payload, dict) else None
    if not isinstance(attrs, dict):
        attrs = {}
    release = attrs.get("release")
    if not isinstance(release, str) or not release.strip():
        raise InvalidSession("attrs.release is required")
    environment = attrs.get("environment")
    return release.strip()[:250], (environment.strip()[:64] if isinstance(environment, str) else "")


def _count(value: Any) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidSession("session counts must be whole numbers of at least 0")
    return value


def session_counts(item_type: str, payload: Any) -> SessionCounts:
    release, environment = _attrs(payload)
    counts: Counter = Counter()
    users: dict[str, bool] = {}
    errored_sid = ""
    if item_type == "session":
        status = payload.get("status", "ok")
        if status not in ENDED | {"ok"}:
            raise InvalidSession(f"unknown session status {status!r}")
        errors = _count(payload.get("errors"))
        if payload.get("init") is True:
            counts["sessions"] += 1
        if status in ("crashed", "abnormal"):
            counts[status] += 1
        elif status in ("errored", "unhandled") or errors > 0:
            counts["errored"] += 1
            sid = payload.get("sid")
            errored_sid = sid[:100] if isinstance(sid, str) else ""
        did = payload.get("did")
        if isinstance(did, str) and did:
            users[did] = status == "crashed"
    else:
        aggregates = payload.get("aggregates")
        if not isinstance(aggregates, list):
            raise InvalidSession("aggregates must be a list")
        for bucket in aggregates:
            if not isinstance(bucket, dict):
                raise InvalidSession("each aggregate must be an object")
            exited, errored, crashed, abnormal, unhandled = (
                _count(bucket.get(k)) for k in ("exited", "errored", "crashed", "abnormal", "unhandled")
            )
            counts["sessions"] += exited + errored + crashed + abnormal + unhandled
            counts["errored"] += errored + unhandled
            counts["crashed"] += crashed
            counts["abnormal"] += abnormal
            did = bucket.get("did")
            if isinstance(did, str) and did:
                users[did] = users.get(did, False) or crashed > 0
    return SessionCounts(release=release, environment=environment, counts=counts, users=users, errored_sid=errored_sid)
