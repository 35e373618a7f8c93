import pytest
from pyrage import x25519


@pytest.fixture(scope="session")
def age_identity() -> x25519.Identity:
    return x25519.Identity.generate()


@pytest.fixture
def identity_env(monkeypatch, age_identity):
    """The identity that decrypts, where restore and verification look for it."""
    monkeypatch.setenv("BACKUPS_AGE_IDENTITY", str(age_identity))
    return age_identity


@pytest.fixture
def backups_dir(settings, tmp_path):
    settings.BACKUPS_DIR = tmp_path / "backups"
    return settings.BACKUPS_DIR


@pytest.fixture
def make_plan(db, age_identity, backups_dir):
    from backups.models import Plan

    def make(**fields):
        fields.setdefault("name", "portal")
        fields.setdefault("recipients", str(age_identity.to_public()))
        plan = Plan(**fields)
        plan.full_clean()
        plan.save()
        return plan

    return make


@pytest.fixture
def pg_server():
    """The PostgreSQL server the tests run on, as libpq settings (without a database)."""
    import os

    from django.db import connection

    from backups import pg

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    info = pg.conninfo_from_url(os.environ["DATABASE_URL"])
    info.pop("dbname", None)
    return info


@pytest.fixture
def pg_database(pg_server):
    """Makes empty databases on the server and drops them after the test: name → URL."""
    import secrets

    from backups import pg

    made = []

    def make(prefix: str = "hbackup_t") -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        pg.create_database(pg_server, name)
        made.append(name)
        user = pg_server.get("user", "postgres")
        password = f":{pg_server['password']}" if pg_server.get("password") else ""
        return f"postgres://{user}{password}@{pg_server.get('host', '127.0.0.1')}:{pg_server.get('port', 5432)}/{name}"

    yield make
    for name in made:
        pg.drop_database(pg_server, name)


@pytest.fixture
def app_pg(pg_database, monkeypatch):
    """The team's application database: two tables with rows, its URL in APP_DATABASE_URL."""
    import psycopg

    url = pg_database("hbackup_app")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, photo bytea)")
        conn.execute("INSERT INTO customers (name, photo) SELECT 'c' || i, '\\x0001' FROM generate_series(1, 700) i")
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers, total numeric)")
        conn.execute(
            "INSERT INTO orders (customer_id, total) SELECT 1 + i % 700, i * 1.5 FROM generate_series(1, 2500) i"
        )
        conn.execute("CREATE INDEX orders_customer ON orders (customer_id)")
    monkeypatch.setenv("APP_DATABASE_URL", url)
    return url


@pytest.fixture
def notes_db(tmp_path):
    """A small SQLite application database: one table of 50 notes."""
    import sqlite3

    path = tmp_path / "app.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"n{i}",) for i in range(50)])
    return path
