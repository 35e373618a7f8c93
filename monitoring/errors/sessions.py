"""sentry-sdk's session items, read into counts: `session` (one session's update) and
`sessions` (pre-aggregated counts, what server SDKs send). Pure; no database."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("sessions", "errored", "crashed", "abnormal")
# Statuses a session ends with; "ok" means it is still running.
ENDED = frozenset({"exited", "errored", "crashed", "abnormal"})


class InvalidSession(ValueError):
    pass


@dataclass(frozen=True)
class SessionCounts:
    """Sessions of one release and environment, counted from one item."""

    release: str
    environment: str
    counts: Counter  # keys from OUTCOMES
    users: dict[str, bool]  # distinct id -> crashed


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
    if item_type == "session":
        status = payload.get("status", "ok")
        if status not in ENDED | {"ok"}:
            raise InvalidSession(f"unknown session status {status!r}")
        if payload.get("init") is True:
            counts["sessions"] += 1
        if status in ("crashed", "abnormal"):
            counts[status] += 1
        elif status in ENDED and (status == "errored" or _count(payload.get("errors")) > 0):
            counts["errored"] += 1
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
            exited, errored, crashed, abnormal = (
                _count(bucket.get(k)) for k in ("exited", "errored", "crashed", "abnormal")
            )
            counts["sessions"] += exited + errored + crashed + abnormal
            counts["errored"] += errored
            counts["crashed"] += crashed
            counts["abnormal"] += abnormal
            did = bucket.get("did")
            if isinstance(did, str) and did:
                users[did] = users.get(did, False) or crashed > 0
    return SessionCounts(release=release, environment=environment, counts=counts, users=users)
