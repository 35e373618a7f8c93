"""A rotation layer starting near the end of the calendar: the shift arithmetic adds turns to its
start, so "who is on call" overflowed Python's dates and answered 500 for the schedule (and so
for every policy paging it). The layer's start is refused where it is entered instead."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from alerts.models import OnCallSchedule
from alerts.paging.services.schedules import layer_validate
from tests.alerts.api.conftest import client_for
from tests.factories import UserFactory, make_api_token

pytestmark = pytest.mark.django_db


def schedule(starts_at: str) -> dict:
    return {
        "name": "Far",
        "time_zone": "UTC",
        "layers": [{"name": "L", "users": ["ana"], "starts_at": starts_at, "rotation_seconds": 7 * 86400}],
    }


def test_the_api_refuses_a_layer_starting_past_ten_years_naming_the_field():
    UserFactory(username="ana")
    client = client_for(make_api_token(scope="write", role="manager"))

    answer = client.post("/api/v1/schedules", schedule("9999-12-31T23:00:00Z"), format="json")

    assert answer.status_code == 400
    assert "layers[0].starts_at" in answer.json()["fields"]
    assert not OnCallSchedule.objects.exists()


def test_a_layer_starting_within_reach_still_answers_who_is_on_call():
    UserFactory(username="ana")
    client = client_for(make_api_token(scope="write", role="manager"))
    created = client.post("/api/v1/schedules", schedule("2020-01-06T09:00:00Z"), format="json")
    assert created.status_code == 201, created.content

    answer = client.get(f"/api/v1/schedules/{created.json()['id']}/oncall")

    assert answer.status_code == 200
    assert answer.json()["users"] == ["ana"]


def test_layer_validation_names_the_start_the_admin_and_importconfig_share():
    UserFactory(username="ana")
    with pytest.raises(ValidationError) as exc:
        layer_validate(
            users=["ana"],
            restrict_start=None,
            restrict_end=None,
            starts_at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
        )
    assert list(exc.value.message_dict) == ["starts_at"]
