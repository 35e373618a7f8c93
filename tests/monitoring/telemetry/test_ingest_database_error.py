"""A database failure halfway through a batch: 503, and nothing of the batch is kept."""

import pytest
from django.db import connection

from monitoring.models import MetricPoint, MetricSeries, RollupBacklog

FAIL_SQLITE = """
CREATE TRIGGER telemetry_test_fail BEFORE INSERT ON monitoring_rollupbacklog
BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END
"""
FAIL_POSTGRES = [
    "CREATE FUNCTION telemetry_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'disk I/O error (test)'; END $$",
    "CREATE TRIGGER telemetry_test_fail BEFORE INSERT ON monitoring_rollupbacklog "
    "FOR EACH ROW EXECUTE FUNCTION telemetry_test_fail()",
]


@pytest.fixture
def failing_last_write(db):
    """The last write of an ingest (marking minutes for rollup) fails inside the database,
    after the series and points of the batch were written."""
    statements = FAIL_POSTGRES if connection.vendor == "postgresql" else [FAIL_SQLITE]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_a_database_error_mid_batch_is_503_and_stores_nothing(send, failing_last_write):
    response = send("/api/v1/metrics", [{"name": "m", "value": v} for v in range(50)])

    assert response.status_code == 503
    assert response["Retry-After"]
    assert "nothing was stored" in response.json()["error"]
    assert MetricPoint.objects.count() == 0
    assert MetricSeries.objects.count() == 0
    assert RollupBacklog.objects.count() == 0
