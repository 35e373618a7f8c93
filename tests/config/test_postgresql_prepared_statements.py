"""Prepared statements: the hot statements sent through bound_cursor() are prepared once
they have run DATABASE_PREPARE_THRESHOLD times; Django's own queries never are."""

import pytest
from django.conf import settings
from django.db import connection

from monitoring.models import Project

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]

_BOUND = "SELECT count(*) FROM monitoring_project WHERE slug = %s"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_bound_statement_is_prepared_after_the_threshold_and_orm_queries_never():
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert threshold == 5  # the default, from DATABASE_PREPARE_THRESHOLD
    for run in range(threshold + 1):
        assert not any("monitoring_project WHERE slug = $1" in s for s in _prepared()), run
        with connection.bound_cursor() as cursor:
            cursor.execute(_BOUND, ["nope"])
            assert cursor.fetchone() == (0,)
        list(Project.objects.filter(slug="nope"))
    prepared = _prepared()
    assert any("monitoring_project WHERE slug = $1" in s for s in prepared), prepared
    # The ORM's query ran as often, but its parameters are inlined on the client.
    assert not any('"monitoring_project"."slug"' in s for s in prepared), prepared
