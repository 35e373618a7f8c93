"""The on-call pages, as the person on call uses them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import Incident, IncidentEvent
from alerts.paging.services.escalation import escalations_advance
from monitoring.projects.roles import role_assign
from tests.alerts.paging.factories import (
    T0,
    LayerFactory,
    PolicyFactory,
    ScheduleFactory,
    firing,
    make_integration,
    step,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def oncall(client):
    user = UserFactory(username="alice")
    role_assign(user=user, role="responder")
    client.force_login(user)
    client.user = user
    return client


def open_incidents(n, *, policy=None):
    integration = make_integration(escalation_policy=policy).integration
    signals = [
        firing(integration=integration, dedup_key=f"ext:{integration.pk}:{i}", fingerprint=f"fp-{i}") for i in range(n)
    ]
    return [Incident.objects.get(pk=i.pk) for i in alerts_receive(signals=signals, now=T0)]


def test_pages_need_login(client):
    [incident] = open_incidents(1)
    for url in ("/oncall/", "/oncall/mine", f"/oncall/incidents/{incident.pk}"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(f"/oncall/incidents/{incident.pk}/acknowledge")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_team_page_shows_who_is_on_call_and_open_incidents_triggered_first(oncall):
    UserFactory(username="bob")
    schedule = ScheduleFactory(name="Primary", time_zone="Europe/Berlin")
    LayerFactory(schedule=schedule, users=["alice", "bob"], starts_at=T0 - dt.timedelta(days=2))
    first, second = open_incidents(2)
    oncall.post(f"/oncall/incidents/{first.pk}/acknowledge")
    page = oncall.get("/oncall/").content.decode()
    assert "Primary" in page and "Now: <strong>alice</strong>" in page
    assert "Next: bob" in page and "from Sat 7 Mar 10:00" in page  # in the schedule's time zone
    rows = page[page.index("<tbody>") :]
    assert rows.index(f"#{second.pk} ") < rows.index(f"#{first.pk} ")  # triggered before acknowledged
    assert "1 firing" in page and "high" in page


def test_team_page_queries_do_not_grow_with_incidents_or_schedules(oncall):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert oncall.get("/oncall/").status_code == 200
        return len(queries)

    UserFactory(username="bob")
    LayerFactory(users=["alice"])
    open_incidents(2)
    count()  # the first request fills per-process caches (on PostgreSQL one query more)
    few = count()
    open_incidents(20)
    for _ in range(5):
        LayerFactory(users=["alice", "bob"])
    assert count() == few
    # Two more than before the muted badge: silences and maintenance windows, read once per page;
    # two for the role check (the user's and its groups' permissions).
    assert few <= 13


def test_acknowledge_resolve_snooze_and_comment_through_the_buttons(oncall):
    a, b, c = open_incidents(3)
    page = oncall.get(f"/oncall/incidents/{a.pk}").content.decode()
    assert "csrfmiddlewaretoken" in page and "Acknowledge" in page and "Snooze until tomorrow 09:00" in page
    assert oncall.get(f"/oncall/incidents/{a.pk}/acknowledge").status_code == 405  # never on a GET
    response = oncall.post(f"/oncall/incidents/{a.pk}/acknowledge", {"next": "/oncall/"})
    assert response.status_code == 302 and response["Location"] == "/oncall/"
    oncall.post(f"/oncall/incidents/{b.pk}/resolve", {"message": "restarted"})
    oncall.post(f"/oncall/incidents/{c.pk}/snooze", {"for": "tomorrow"})
    oncall.post(f"/oncall/incidents/{a.pk}/comment", {"message": "looking at the load balancer"})
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert (a.status, a.acknowledged_by) == ("acknowledged", oncall.user)
    assert (b.status, b.resolved_by) == ("resolved", oncall.user)
    assert c.snoozed_until == dt.datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("UTC"))  # the portal's TIME_ZONE is UTC
    page = oncall.get(f"/oncall/incidents/{a.pk}").content.decode()
    assert "Acknowledged</span> by alice" in page and "looking at the load balancer" in page
    assert "Fired" in page


def test_snooze_for_one_or_four_hours_and_bad_choices(oncall):
    a, b = open_incidents(2)
    oncall.post(f"/oncall/incidents/{a.pk}/snooze", {"for": "1h"})
    response = oncall.post(f"/oncall/incidents/{b.pk}/snooze", {"for": "forever"}, follow=True)
    a.refresh_from_db(), b.refresh_from_db()
    assert a.snoozed_until == T0 + dt.timedelta(hours=1)
    assert b.snoozed_until is None and "Snooze for one of" in response.content.decode()


def test_an_empty_comment_is_refused_with_a_message(oncall):
    [a] = open_incidents(1)
    response = oncall.post(f"/oncall/incidents/{a.pk}/comment", {"message": "  "}, follow=True)
    assert "A comment needs some text." in response.content.decode()
    assert not IncidentEvent.objects.filter(kind="comment").exists()


def test_my_incidents_are_those_escalated_to_me(oncall):
    policy = PolicyFactory()
    step(policy, users=[oncall.user])
    mine = open_incidents(1, policy=policy)[0]
    other = open_incidents(1)[0]
    escalations_advance(now=T0)
    page = oncall.get("/oncall/mine").content.decode()
    assert f"#{mine.pk} " in page and f"#{other.pk} " not in page


def test_incident_page_queries_are_fixed(oncall):
    [incident] = open_incidents(1)
    for n in range(10):
        oncall.post(f"/oncall/incidents/{incident.pk}/comment", {"message": f"note {n}"})
    with CaptureQueriesContext(connection) as queries:
        assert oncall.get(f"/oncall/incidents/{incident.pk}").status_code == 200
    # Two more than before the muted badge: silences and maintenance windows, read once per page;
    # two for the role check (the user's and its groups' permissions).
    assert len(queries) <= 10


def test_a_silenced_incident_says_muted_with_the_reason_on_the_team_page(oncall):
    from alerts.models import Silence

    a, b = open_incidents(2)
    Silence.objects.create(
        matchers=[{"name": "alertname", "op": "=", "value": "ApiDown"}],
        starts_at=T0 - dt.timedelta(minutes=1),
        ends_at=T0 + dt.timedelta(hours=2),
        comment="deploying the API",
    )
    page = oncall.get("/oncall/").content.decode()
    # Muted is visible next to "triggered", with why; acknowledging stays possible, but not as if
    # someone were being paged.
    assert page.count("data-muted") == 2 and "deploying the API" in page
    assert page.count("Acknowledge anyway</button>") == 2 and "<button>Acknowledge</button>" not in page
    detail = oncall.get(f"/oncall/incidents/{a.pk}").content.decode()
    assert "data-muted" in detail and "silenced until" in detail


def test_an_incident_that_is_not_muted_shows_no_muted_badge(oncall):
    open_incidents(1)
    assert "data-muted" not in oncall.get("/oncall/").content.decode()
