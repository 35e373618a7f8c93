"""An event for an issue that already exists, stored on PostgreSQL in one statement.

Ingest's cost was round trips, not work: finding the issue, checking the event id, BEGIN,
the event, its tally, its user, its release and COMMIT were one each. Here one autocommit
statement of data-modifying CTEs does it all, atomic as any one statement is: it finds the
issue by grouping hash (a merged issue answers for its target), skips an event id the
project already has, and writes the tally, user and release only if the event was written.
An event whose hash has no issue yet is left to the transaction in services.events,
so an issue never exists without its first event.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from monitoring.errors.events import PreparedEvent
from monitoring.models import ErrorEvent, ErrorIssue, ErrorIssueTally, ErrorIssueUser, Release


@dataclass(frozen=True)
class Inserted:
    issue_id: int | None  # None: no issue has the event's grouping hash yet, nothing was written
    stored: bool  # False with an issue: the project already has this event id


def _sql(*, with_user: bool, with_release: bool) -> str:
    events = ErrorEvent._meta.db_table
    parts = [
        f"WITH i AS (SELECT COALESCE(merged_into_id, id) AS id FROM {ErrorIssue._meta.db_table} "
        "WHERE project_id = %(project)s AND grouping_hash = %(hash)s)",
        f"e AS (INSERT INTO {events} (project_id, issue_id, event_id, grouping_hash, timestamp, received_at, "
        "level, release, environment, user_hash, payload) "
        "SELECT %(project)s, i.id, %(event_id)s, %(hash)s, %(timestamp)s, %(received_at)s, %(level)s, "
        "%(release)s, %(environment)s, %(user_hash)s, %(payload)s::jsonb FROM i "
        # The same id at another timestamp (an SDK that re-stamps a retry) is still the same event.
        f"WHERE NOT EXISTS (SELECT 1 FROM {events} WHERE project_id = %(project)s AND event_id = %(event_id)s) "
        "ON CONFLICT DO NOTHING RETURNING issue_id)",
        f"t AS (INSERT INTO {ErrorIssueTally._meta.db_table} (issue_id, timestamp, release, environment) "
        "SELECT issue_id, %(timestamp)s, %(release)s, %(environment)s FROM e)",
    ]
    if with_user:
        parts.append(
            f"u AS (INSERT INTO {ErrorIssueUser._meta.db_table} (issue_id, user_hash) "
            "SELECT issue_id, %(user_hash)s FROM e ON CONFLICT DO NOTHING)"
        )
    if with_release:
        parts.append(
            f"r AS (INSERT INTO {Release._meta.db_table} (project_id, version, first_seen) "
            "SELECT %(project)s, %(release)s, %(timestamp)s FROM e ON CONFLICT DO NOTHING)"
        )
    return ", ".join(parts) + " SELECT (SELECT id FROM i), (SELECT count(*) FROM e)"


_STATEMENTS = {(u, r): _sql(with_user=u, with_release=r) for u in (False, True) for r in (False, True)}


def error_event_insert(
    *, project_id: int, event: PreparedEvent, received_at: datetime, with_user: bool, with_release: bool
) -> Inserted:
    """Insert the event into the issue its grouping hash names, with its tally (and the
    issue's user, the project's release, when asked)."""
    params = {
        "project": project_id,
        "hash": event.grouping.hash,
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "received_at": received_at,
        "level": event.level,
        "release": event.release,
        "environment": event.environment,
        "user_hash": event.user_hash,
        "payload": json.dumps(event.payload),
    }
    # bound_cursor is config.postgresql's, and this path runs on PostgreSQL only.
    bound: Any = connection
    with bound.bound_cursor() as cursor:
        cursor.execute(_STATEMENTS[(with_user, with_release)], params)
        issue_id, written = cursor.fetchone()
    return Inserted(issue_id=issue_id, stored=written == 1)
