"""The connection health check between requests: no round trip for a healthy connection,
and a connection the server ended is still replaced before a request uses it."""

import time

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection

from monitoring.models import Project
from tests.processes import current_database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend is PostgreSQL's"),
]


@pytest.fixture
def other():
    with psycopg.connect(current_database_url(), autocommit=True) as other:
        yield other


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _last_query(other, pid: int) -> str | None:
    row = other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return row and row[0]


def test_a_healthy_connection_is_kept_without_asking_the_server(other):
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last query'")
    assert connection.is_usable()
    # A `SELECT 1` would have become the backend's last query.
    assert _last_query(other, pid) == "SELECT 'the last query'"


def test_a_live_connection_with_a_message_waiting_is_kept(other):
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN lookout_test")
    other.execute("NOTIFY lookout_test")
    time.sleep(0.2)
    assert connection.is_usable()
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(other):
    pid = _backend_pid()
    other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while _last_query(other, pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # the server's farewell on its way to our socket
    assert not connection.is_usable()

    request_started.send(sender=None)  # a request begins: the check is due again
    assert Project.objects.count() >= 0
    assert _backend_pid() != pid
