"""The incident list and page, silences, maintenance windows and their calendar in the admin."""

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse

from alerts.incidents.services.incidents import alerts_receive, incident_acknowledge, incident_resolve
from alerts.incidents.services.noise import silence_create
from alerts.incidents.services.rounds import incidents_notify_due
from alerts.models import Incident, IncidentEvent, MaintenanceWindow, Silence
from tests.alerts.incidents.factories import T0, ChannelFactory, RuleFactory, firing
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("admin:alerts_incident_changelist")
NOW = T0 + dt.timedelta(hours=2)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def open_incident(rule=None, **kwargs):
    (incident,) = alerts_receive(signals=[firing(rule or RuleFactory(), **kwargs)], now=T0)
    return incident


@pytest.mark.parametrize(
    "url",
    [
        LIST,
        reverse("admin:alerts_silence_changelist"),
        reverse("admin:alerts_maintenancewindow_changelist"),
        reverse("admin:alerts_maintenance_calendar"),
        reverse("admin:alerts_inhibitrule_changelist"),
    ],
)
def test_every_page_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_incident_actions_need_a_login(client):
    incident = open_incident()
    response = client.post(reverse("admin:alerts_incident_act", args=[incident.pk, "acknowledge"]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Incident.objects.get().status == "triggered"


def test_the_list_shows_each_incident_and_the_response_figures(admin_client):
    project = ProjectFactory(name="Shop")
    rule = RuleFactory(project=project)
    acked = open_incident(rule, dedup_key="a", project_id=project.pk, summary="Checkout slow")
    incident_acknowledge(incident=acked, actor=None, now=T0 + dt.timedelta(minutes=4))
    incident_resolve(incident=acked, actor=None, now=T0 + dt.timedelta(minutes=30))
    open_incident(rule, dedup_key="b", severity="critical", summary="API down")
    response = admin_client.get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Checkout slow" in body and "API down" in body and "Shop" in body
    assert 'data-figure="mtta">4 min 0 s<' in body
    assert 'data-figure="mttr">30 min 0 s<' in body
    assert 'data-severity="critical"' in body


def test_the_list_query_count_does_not_grow_with_the_page(admin_client, django_assert_max_num_queries):
    for n in range(60):
        incident = open_incident(dedup_key=f"k{n}", project_id=ProjectFactory().pk)
        if n % 2:
            incident_acknowledge(incident=incident, actor=None, now=T0 + dt.timedelta(minutes=n))
    # Three for the muted badges, read once for the page: firing alerts, silences and windows, inhibitions.
    with django_assert_max_num_queries(11):
        response = admin_client.get(LIST)
    assert response.status_code == 200
    assert response.content.decode().count('name="_selected_action"') == 50


def test_the_incident_page_shows_its_alerts_and_timeline_with_muted_rounds_marked(admin_client):
    rule = RuleFactory(group_wait_seconds=0)
    rule.channels.set([ChannelFactory(name="slack-alerts")])
    silence_create(
        matchers='{service="api"}',
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=1),
        created_by=UserFactory(),
        comment="deploying v2",
    )
    incident = open_incident(rule, labels={"service": "api"}, summary="API 5xx above 5 %")
    incidents_notify_due(now=T0)
    response = admin_client.get(reverse("admin:alerts_incident_change", args=[incident.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "API 5xx above 5 %" in body and "service=api" in body
    assert 'data-kind="fired"' in body and 'data-kind="muted"' in body
    assert "muted</span>" in body and "deploying v2" in body
    assert "slack-alerts (muted)" in body


def test_acknowledge_comment_resolve_and_reopen_from_the_incident_page(admin_client, admin_user):
    incident = open_incident()
    page = reverse("admin:alerts_incident_change", args=[incident.pk])

    def act(verb, **data):
        response = admin_client.post(reverse("admin:alerts_incident_act", args=[incident.pk, verb]), data)
        assert response.status_code == 302 and response["Location"] == page
        return admin_client.get(page).content.decode()

    assert "Acknowledged." in act("acknowledge")
    assert "Comment added." in act("comment", message="looking at the DB")
    assert "A comment needs some text." in act("comment", message="  ")
    assert "Resolved." in act("resolve", message="restarted the pool")
    assert "Reopened." in act("reopen")
    events = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", "actor", "message"))
    assert events == [
        ("fired", None, incident.title),
        ("acknowledged", admin_user.pk, ""),
        ("comment", admin_user.pk, "looking at the DB"),
        ("resolved", admin_user.pk, "restarted the pool"),
        ("reopened", admin_user.pk, ""),
    ]


def test_actions_are_post_only(admin_client):
    incident = open_incident()
    response = admin_client.get(reverse("admin:alerts_incident_act", args=[incident.pk, "resolve"]))
    assert response.status_code == 405
    assert Incident.objects.get().status == "triggered"


def test_bulk_acknowledge_from_the_list(admin_client):
    incidents = [open_incident(dedup_key=k) for k in "ab"]
    response = admin_client.post(
        LIST, {"action": "acknowledge_selected", "_selected_action": [i.pk for i in incidents]}
    )
    assert response.status_code == 302
    assert set(Incident.objects.values_list("status", flat=True)) == {"acknowledged"}


def test_a_silence_is_made_from_matchers_and_its_creator_is_the_person(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:alerts_silence_add"),
        {
            "matchers": '{service="api", env=~"prod|staging"}',
            "starts_at_0": "2026-03-02",
            "starts_at_1": "11:00",
            "ends_at_0": "2026-03-02",
            "ends_at_1": "13:00",
            "comment": "migrating the DB",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    silence = Silence.objects.get()
    assert silence.created_by == admin_user
    assert silence.matchers[1] == {"name": "env", "op": "=~", "value": "prod|staging"}


def test_bad_silences_are_field_errors(admin_client):
    response = admin_client.post(
        reverse("admin:alerts_silence_add"),
        {
            "matchers": '{env=~"(prod"}',
            "starts_at_0": "2026-03-02",
            "starts_at_1": "11:00",
            "ends_at_0": "2026-03-02",
            "ends_at_1": "10:00",
            "comment": "",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not a valid regular expression" in errors["matchers"][0]
    assert "comment" in errors
    response = admin_client.post(
        reverse("admin:alerts_silence_add"),
        {
            "matchers": '{env="prod"}',
            "starts_at_0": "2026-03-02",
            "starts_at_1": "11:00",
            "ends_at_0": "2026-03-02",
            "ends_at_1": "10:00",
            "comment": "x",
        },
    )
    assert "after the start" in response.context["adminform"].form.errors["ends_at"][0]
    assert not Silence.objects.exists()


def test_expiring_silences_from_the_list(admin_client):
    silence = silence_create(
        matchers='{a="b"}', starts_at=T0, ends_at=NOW + dt.timedelta(hours=1), created_by=UserFactory(), comment="x"
    )
    admin_client.post(
        reverse("admin:alerts_silence_changelist"), {"action": "expire", "_selected_action": [silence.pk]}
    )
    silence.refresh_from_db()
    assert silence.ends_at == NOW


def window_post(**fields):
    if "scope" not in fields:
        fields = {"scope": "project", "project": ProjectFactory().pk, **fields}
    return {
        "name": "nightly",
        "recurrence": "cron",
        "expression": "0 2 * * SUN",
        "starts_at_0": "2026-03-01",
        "starts_at_1": "00:00",
        "duration_minutes": "60",
        "time_zone": "Europe/Berlin",
        "effect": "mute",
        "comment": "",
        **fields,
    }


def test_a_maintenance_window_is_saved_from_the_form(admin_client, admin_user):
    response = admin_client.post(reverse("admin:alerts_maintenancewindow_add"), window_post())
    assert response.status_code == 302
    assert MaintenanceWindow.objects.get().created_by == admin_user


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"expression": "0 25 * * *"}, "expression", "Not a valid cron expression"),
        ({"recurrence": "rrule", "expression": "FREQ=FORTNIGHTLY"}, "expression", "Not a valid RRULE"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "not a known time zone"),
        # Nothing chosen is not "mute everything": the form asks what the window covers.
        ({"scope": ""}, "scope", "This field is required"),
        ({"scope": "target"}, "target", "Pick the target this window covers"),
        ({"scope": "project", "project": ""}, "project", "Pick the project this window covers"),
        ({"scope": "everything"}, "scope", "Select a valid choice"),
    ],
)
def test_bad_maintenance_windows_are_field_errors(admin_client, fields, field, says):
    response = admin_client.post(reverse("admin:alerts_maintenancewindow_add"), window_post(**fields))
    assert response.status_code == 200
    assert says in response.context["adminform"].form.errors[field][0]
    assert not MaintenanceWindow.objects.exists()


def test_the_chosen_scope_decides_what_a_window_covers(admin_client):
    from tests.monitoring.uptime.factories import TargetFactory

    target = TargetFactory()
    response = admin_client.post(
        reverse("admin:alerts_maintenancewindow_add"),
        window_post(scope="target", project=target.project_id, target=target.pk),
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.target_id, window.project_id, window.tag_id) == (target.pk, None, None)
    listed = admin_client.get(reverse("admin:alerts_maintenancewindow_changelist")).content.decode()
    assert f"target {target}" in listed


def test_the_form_shows_its_hints_and_the_scope_choice(admin_client):
    body = admin_client.get(reverse("admin:alerts_maintenancewindow_add")).content.decode()
    assert "Everything in one project" in body and "What this window mutes or pauses" in body


def test_the_month_calendar_shows_each_window_s_scope_mode_and_local_times(admin_client):
    project = ProjectFactory(name="Shop")
    MaintenanceWindow.objects.create(
        name="db vacuum",
        project=project,
        recurrence="cron",
        expression="0 3 * * SUN",
        time_zone="Europe/Berlin",
        starts_at=T0,
        duration_minutes=90,
        effect="pause",
    )
    MaintenanceWindow.objects.create(name="move racks", starts_at=NOW + dt.timedelta(days=3), duration_minutes=60)
    response = admin_client.get(reverse("admin:alerts_maintenance_calendar"), {"tz": "Europe/Berlin"})
    assert response.status_code == 200
    weeks = response.context["weeks"]
    assert all(len(week) == 7 for week in weeks) and weeks[0][0]["day"] == dt.date(2026, 2, 23)  # the Monday
    by_day = {cell["day"]: cell["entries"] for week in weeks for cell in week}
    [vacuum] = by_day[dt.date(2026, 3, 29)]  # the night clocks go forward: still 03:00 local
    assert (vacuum.when(), vacuum.scope) == ("03:00–04:30", "everything in project Shop")
    [racks] = by_day[dt.date(2026, 3, 5)]
    assert racks.scope == "everything, every project (no scope chosen)"
    body = response.content.decode()
    assert "March 2026" in body and "pause checks" in body and 'class="entry block pause"' in body


def test_an_hourly_window_is_one_line_a_day_not_24(admin_client):
    MaintenanceWindow.objects.create(
        name="log rotation",
        project=ProjectFactory(),
        recurrence="cron",
        expression="0 * * * *",
        starts_at=T0 - dt.timedelta(days=1),
        duration_minutes=10,
    )
    response = admin_client.get(reverse("admin:alerts_maintenance_calendar"), {"view": "week", "date": "2026-03-04"})
    assert response.status_code == 200
    [week] = response.context["weeks"]
    assert [c["day"] for c in week] == [dt.date(2026, 3, d) for d in range(2, 9)]
    [entry] = week[2]["entries"]
    assert entry.when() == "24× 10 min, 00:00–23:10"
    assert response.content.decode().count('data-window="') == 7


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"tz": "Nowhere/Else"}, "tz: 'Nowhere/Else'"),
        ({"view": "year"}, "view: 'year'"),
        ({"date": "2026-13-01"}, "date:"),
    ],
)
def test_bad_calendar_queries_say_which_field_and_still_show_a_calendar(admin_client, query, says):
    response = admin_client.get(reverse("admin:alerts_maintenance_calendar"), query)
    assert response.status_code == 400
    assert says in html.unescape(response.content.decode()) and response.context["weeks"]


def test_inhibit_rules_take_matchers_as_text(admin_client):
    response = admin_client.post(
        reverse("admin:alerts_inhibitrule_add"),
        {
            "name": "crit",
            "source_matchers": '{severity="critical"}',
            "target_matchers": '{severity=~"high|low"}',
            "equal": "target_id, 9bad",
            "enabled": "on",
        },
    )
    assert "Not label names: 9bad" in response.context["adminform"].form.errors["equal"][0]
    response = admin_client.post(
        reverse("admin:alerts_inhibitrule_add"),
        {"name": "crit", "source_matchers": '{severity=="critical"}', "target_matchers": "{}", "equal": ""},
    )
    assert "source_matchers" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    "name",
    [
        "alerts_silence_add",
        "alerts_silence_changelist",
        "alerts_maintenancewindow_add",
        "alerts_maintenancewindow_changelist",
        "alerts_inhibitrule_add",
        "alerts_inhibitrule_changelist",
        "alerts_targetdependency_add",
        "alerts_targetdependency_changelist",
    ],
)
def test_each_noise_page_renders(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_an_inhibit_rule_is_edited_as_text(admin_client):
    from alerts.models import InhibitRule

    rule = InhibitRule.objects.create(
        name="crit",
        source_matchers=[{"name": "severity", "op": "=", "value": "critical"}],
        target_matchers=[{"name": "severity", "op": "=~", "value": "high|low"}],
        equal=["target_id"],
    )
    body = admin_client.get(reverse("admin:alerts_inhibitrule_change", args=[rule.pk])).content.decode()
    assert 'value="{severity=&quot;critical&quot;}"' in body
    assert 'value="target_id"' in body


def test_a_silenced_incident_says_muted_with_the_reason_in_the_list_and_on_its_page(admin_client):
    silence_create(
        matchers='{service="api"}',
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=4),
        created_by=UserFactory(),
        comment="deploying v2",
    )
    muted = open_incident(labels={"service": "api"}, summary="API 5xx above 5 %", dedup_key="api")
    open_incident(labels={"service": "web"}, summary="Web slow", dedup_key="web")
    body = admin_client.get(LIST).content.decode()
    assert body.count('class="muted-badge') == 1 and "deploying v2" in body
    page = admin_client.get(reverse("admin:alerts_incident_change", args=[muted.pk])).content.decode()
    assert "data-muted" in page and "deploying v2: notifications and pages are held back" in page


def test_the_incident_page_links_to_its_target_and_rule(admin_client):
    from tests.monitoring.uptime.factories import TargetFactory

    target = TargetFactory(name="storefront")
    rule = RuleFactory(name="Storefront down")
    incident = open_incident(rule, labels={"target": "storefront", "target_id": str(target.pk)})
    page = admin_client.get(reverse("admin:alerts_incident_change", args=[incident.pk])).content.decode()
    target_url = reverse("admin:monitoring_target_change", args=[target.pk])
    rule_url = reverse("admin:alerts_alertrule_change", args=[rule.pk])
    assert f'href="{target_url}" data-source="target">storefront</a>' in page
    assert f'href="{rule_url}" data-source="rule">Storefront down</a>' in page
