"""An event for an issue that already exists, stored on PostgreSQL in one statement.

Ingest's cost was round trips, not work: BEGIN, the event, its tally, its user, its
release and COMMIT were one each. Here data-modifying CTEs insert them all in a single
autocommit statement, atomic as any one statement is; the tally, user and release are
written only if the event was (ON CONFLICT DO NOTHING on its unique event id). A new
issue still goes through the transaction in services.error_events, so it never exists
without its first event.
"""

import json

from django.db import connection

from monitoring.errors.events import PreparedEvent
from monitoring.models import ErrorEvent, ErrorIssueTally, ErrorIssueUser, Release


def _sql(*, with_user: bool, with_release: bool) -> str:
    parts = [
        f"WITH e AS (INSERT INTO {ErrorEvent._meta.db_table} (project_id, issue_id, event_id, grouping_hash, "
        "timestamp, received_at, level, release, environment, user_hash, payload) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT DO NOTHING RETURNING 1)",
        f"t AS (INSERT INTO {ErrorIssueTally._meta.db_table} (issue_id, timestamp, release, environment) "
        "SELECT %s, %s, %s, %s FROM e)",
    ]
    if with_user:
        parts.append(f"u AS (INSERT INTO {ErrorIssueUser._meta.db_table} (issue_id, user_hash) "
                     "SELECT %s, %s FROM e ON CONFLICT DO NOTHING)")
    if with_release:
        parts.append(f"r AS (INSERT INTO {Release._meta.db_table} (project_id, version, first_seen) "
                     "SELECT %s, %s, %s FROM e ON CONFLICT DO NOTHING)")
    return ", ".join(parts) + " SELECT count(*) FROM e"


def error_event_insert(*, project_id: int, issue_id: int, event: PreparedEvent, received_at,
                       with_user: bool, with_release: bool) -> bool:
    """Insert the event and its tally (and its issue's user, its project's release, when
    asked); False if an event with the same id and timestamp was there already."""
    params = [
        project_id, issue_id, event.event_id, event.grouping.hash, event.timestamp, received_at, event.level,
        event.release, event.environment, event.user_hash, json.dumps(event.payload),
        issue_id, event.timestamp, event.release, event.environment,
    ]
    if with_user:
        params += [issue_id, event.user_hash]
    if with_release:
        params += [project_id, event.release, event.timestamp]
    with connection.cursor() as cursor:
        cursor.execute(_sql(with_user=with_user, with_release=with_release), params)
        return cursor.fetchone()[0] == 1
