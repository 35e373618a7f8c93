"""The SLA report's month at the ends of the calendar: the report links the months before and
after, and the month's end is its first day plus a month; 0001-01 and 9999-12 overflowed
Python's dates into a 500. They are a 400 naming the month, as any other malformed month."""

import pytest

from tests.alerts.status.factories import StatusPageFactory
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
@pytest.mark.parametrize("kind", ["page", "project"])
def test_a_month_at_the_ends_of_the_calendar_is_a_400_naming_the_month(admin_client, kind, month):
    StatusPageFactory(slug="acme")
    ProjectFactory(slug="acme")

    response = admin_client.get(f"/admin/alerts/digestsubscription/sla/{kind}/acme/{month}/")

    assert response.status_code == 400
    assert response.content.decode().startswith("month: ")


def test_a_month_next_to_them_still_reads(admin_client):
    ProjectFactory(slug="acme")

    response = admin_client.get("/admin/alerts/digestsubscription/sla/project/acme/2000-01/?format=csv")

    assert response.status_code == 200
