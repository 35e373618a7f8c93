"""MTTA and MTTR over a window, per project and severity; the incident list's filters."""

import datetime as dt

import pytest

from alerts.incidents.selectors import incident_timeline, incidents_list, response_figures
from alerts.incidents.services.incidents import alerts_receive, incident_acknowledge, incident_resolve
from tests.alerts.incidents.factories import T0, RuleFactory, firing
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


def incident(key, *, at=T0, severity="high", project=None, ack_after=None, resolve_after=None):
    (opened,) = alerts_receive(
        signals=[firing(RuleFactory(), dedup_key=key, severity=severity, project_id=project.pk if project else None)],
        now=at,
    )
    if ack_after is not None:
        incident_acknowledge(incident=opened, actor=None, now=at + ack_after)
    if resolve_after is not None:
        incident_resolve(incident=opened, actor=None, now=at + resolve_after)
    return opened


def test_mtta_and_mttr_are_the_means_over_incidents_opened_in_the_window():
    shop, blog = ProjectFactory(name="shop"), ProjectFactory(name="blog")
    incident("a", project=shop, severity="critical", ack_after=2 * M, resolve_after=10 * M)
    incident("b", project=shop, ack_after=6 * M, resolve_after=50 * M)
    incident("c", project=blog, ack_after=10 * M)  # still open: counted, not in MTTR
    incident("d", project=blog, resolve_after=30 * M)  # resolved by itself, never acknowledged
    incident("old", at=T0 - dt.timedelta(days=40), ack_after=M, resolve_after=M)
    window = {"since": T0 - dt.timedelta(days=30), "until": T0 + dt.timedelta(days=1)}

    overall = response_figures(**window)["all"]
    assert (overall.opened, overall.acknowledged, overall.resolved) == (4, 3, 3)
    assert overall.mtta == 6 * M and overall.mttr == 30 * M

    per_project = response_figures(**window, by="project")
    assert per_project["shop"].mtta == 4 * M and per_project["shop"].mttr == 30 * M
    assert per_project["blog"].mtta == 10 * M and per_project["blog"].mttr == 30 * M
    per_severity = response_figures(**window, by="severity")
    assert per_severity["critical"].mttr == 10 * M and per_severity["high"].opened == 3
    assert response_figures(**window, project_id=shop.pk, severity="high")["all"].mtta == 6 * M
    nothing = response_figures(since=T0 + dt.timedelta(days=2), until=T0 + dt.timedelta(days=3))["all"]
    assert nothing.opened == 0 and nothing.mtta is None and nothing.mttr is None


def test_the_list_filters_by_status_severity_project_and_time():
    shop = ProjectFactory()
    incident("a", project=shop, severity="critical")
    incident("b", ack_after=M)
    incident("c", at=T0 + 10 * M, resolve_after=M)
    assert [i.dedup_key for i in incidents_list()] == ["c", "b", "a"]
    assert [i.dedup_key for i in incidents_list(open_only=True)] == ["b", "a"]
    assert [i.dedup_key for i in incidents_list(status="acknowledged")] == ["b"]
    assert [i.dedup_key for i in incidents_list(severity="critical", project_id=shop.pk)] == ["a"]
    assert [i.dedup_key for i in incidents_list(opened_after=T0 + 5 * M)] == ["c"]
    assert [i.dedup_key for i in incidents_list(opened_before=T0 + 5 * M, status="triggered")] == ["a"]


def test_the_timeline_lists_every_event_in_order_with_who():
    opened = incident("a", ack_after=M, resolve_after=2 * M)
    entries = incident_timeline(incident=opened)
    assert [(e.kind, e.at, e.muted) for e in entries] == [
        ("fired", T0, False),
        ("acknowledged", T0 + M, False),
        ("resolved", T0 + 2 * M, False),
    ]
