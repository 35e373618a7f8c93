"""PostgreSQL plumbing shared by the connectors, restore and verification: connection
settings for psycopg and for libpq's command-line tools, versions, tables and row counts."""

import glob
import os
import re
import shutil
import subprocess
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from backups.errors import BackupError
from backups.models import FailureKind

Conninfo = dict[str, Any]

_LIBPQ_ENV = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}

# Tables whose rows are the database's own bookkeeping, not data: never counted.
USER_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


def conninfo_from_url(url: str) -> Conninfo:
    if not url.startswith(("postgres://", "postgresql://")):
        raise BackupError("the URL must start with postgres:// or postgresql://", kind=FailureKind.CONFIG)
    try:
        return conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise BackupError(f"the URL is not a PostgreSQL URL: {exc}", kind=FailureKind.CONFIG) from exc


def conninfo_from_django(settings_dict: dict) -> Conninfo:
    info = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    return {k: str(v) for k, v in info.items() if v}


def libpq_env(info: Conninfo) -> dict[str, str]:
    """The environment a libpq tool needs (the password never goes on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, name in _LIBPQ_ENV.items():
        if info.get(key):
            env[name] = str(info[key])
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if info.get(key):
            env[f"PG{key.upper()}"] = str(info[key])
    return env


def connect(info: Conninfo, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(**{"connect_timeout": 10, **info, **kwargs})
    except psycopg.Error as exc:
        where = f"{info.get('host') or 'local socket'}:{info.get('port') or 5432}/{info.get('dbname', '')}"
        raise BackupError(
            f"cannot connect to PostgreSQL at {where}: {first_line(exc)}", kind=FailureKind.SOURCE
        ) from exc


def first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def scalar(conn: psycopg.Connection, query) -> Any:
    """The first column of the one row a query returns."""
    row = conn.execute(query).fetchone()
    assert row is not None, "the query returned no row"
    return row[0]


def server_version(conn: psycopg.Connection) -> str:
    return str(scalar(conn, "SHOW server_version")).split()[0]


def major(version: str) -> int:
    match = re.match(r"\d+", version)
    return int(match.group(0)) if match else 0


def tool(name: str) -> str:
    """Path of a PostgreSQL client tool: from PATH, else the newest installed major (Debian's layout)."""
    found = shutil.which(name) or next(
        (p for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major_of_path, reverse=True)), None
    )
    if not found:
        raise BackupError(f"{name} is not installed on this worker", kind=FailureKind.CONFIG)
    return found


def _major_of_path(path: str) -> int:
    return major(path.split("/")[4])


def tool_version(name: str) -> str:
    out = subprocess.run([tool(name), "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+(?:\.\d+)*)", out)
    return match.group(1) if match else ""


def table_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact rows per user table, as this connection's snapshot sees them."""
    counts = {}
    for schema, table in conn.execute(USER_TABLES).fetchall():
        name = table if schema == "public" else f"{schema}.{table}"
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[name] = int(scalar(conn, query))
    return counts


def create_database(info: Conninfo, name: str) -> None:
    with connect({**info, "dbname": info.get("maintenance_db", "postgres")}, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(info: Conninfo, name: str) -> None:
    with connect({**info, "dbname": info.get("maintenance_db", "postgres")}, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_is_empty(info: Conninfo) -> bool:
    with connect(info) as conn:
        return not conn.execute(USER_TABLES).fetchone()
