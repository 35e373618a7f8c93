"""For tests that start real processes (manage.py, gunicorn, Celery) beside the test run."""

import os
import socket
from urllib.parse import urlsplit, urlunsplit

from django.db import connection


def current_database_url() -> str:
    """DATABASE_URL for the database this test runs on (the test copy, not the real one)."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
