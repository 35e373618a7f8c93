"""Django's PostgreSQL backend, with a health check that costs no round trip and a cursor
for the hot statements of ingest.

CONN_HEALTH_CHECKS is on so a connection the server has ended (a restart, a failover,
idle_session_timeout, pg_terminate_backend) is replaced before a request uses it, instead
of failing that request. Django checks with `SELECT 1`, a round trip at the start of every
request: on a one-statement ping it was a fifth of the throughput. A server that ends a
connection first writes its reason or closes the stream, so the socket turns readable; a
healthy idle connection has nothing waiting. Only then is the server asked.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            waiting, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is already gone
            return False
        # Something waiting may also be harmless (a NOTICE, a parameter change): the
        # query tells a dead connection from a live one.
        return not waiting or super().is_usable()

    def bound_cursor(self):
        """A cursor that sends the parameters apart from the statement, for a statement run
        on every ping or event. Django's cursors inline them into the SQL text, which costs
        quoting each value in Python (a tenth of a ping) and a parse and plan per run; bound,
        psycopg prepares the statement after DATABASE_PREPARE_THRESHOLD runs and the server
        plans it once per connection. Values are typed by Python type, so the SQL casts what
        could be ambiguous. The cursor is wrapped as connection.cursor()'s are: errors,
        logging, health check."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(base.ServerBindingCursor(self.connection))
