"""The rule editor: kinds from the registry, params refused as field errors, the preview, the transitions."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertRule, Incident, RuleInstance, RuleTransition
from tests.alerts.rules.factories import RuleFactory, metric_series, put_minute


def form_data(of, **overrides):
    data = {
        "name": "CPU high",
        "project": of.pk,
        "kind": "metric_threshold",
        "params": '{"metric": "cpu", "agg": "avg", "window_minutes": 5, "operator": "gt", "threshold": 85}',
        "severity": "high",
        "summary": "",
        "labels": "{}",
        "enabled": "on",
        "interval_seconds": 60,
        "for_seconds": 300,
        "keep_firing_for_seconds": 0,
        "no_data_policy": "keep",
        "error_policy": "keep",
        "auto_resolve": "on",
        "group_by": "[]",
        "group_wait_seconds": 30,
        "group_interval_seconds": 300,
        "repeat_interval_seconds": 14400,
    }
    return {**data, **overrides}


def test_the_add_form_offers_every_kind_and_shows_examples(admin_client):
    page = admin_client.get(reverse("admin:alerts_alertrule_add"))
    assert page.status_code == 200
    body = page.content.decode()
    for label in ("Metric threshold", "Error tracking: a new issue", "Uptime: a heartbeat late", "SLO burn rate"):
        assert label in body
    assert "&quot;window_minutes&quot;: 5" in body or '"window_minutes": 5' in body


def test_a_valid_rule_is_saved_with_cleaned_params(admin_client, project):
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), form_data(project))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert rule.params == {
        "metric": "cpu",
        "tags": {},
        "agg": "avg",
        "window_minutes": 5,
        "operator": "gt",
        "threshold": 85.0,
        "recovery_threshold": None,
        "group_by_tag": "",
        "per_series": False,
    }


def test_bad_params_are_a_field_error_not_a_500(admin_client, project):
    for params, message in (
        ('{"metric": "cpu", "threshold": "lots"}', "threshold: required, as a number"),
        ('{"metric": "cpu", "threshold": 5, "agg": "median"}', "agg: &#x27;median&#x27; is not one of"),
        ("[1, 2]", "params: must be a JSON object"),
        ("{not json", "Enter a valid JSON"),
    ):
        response = admin_client.post(reverse("admin:alerts_alertrule_add"), form_data(project, params=params))
        assert response.status_code == 200
        assert message in response.content.decode(), params
        assert response.context["adminform"].form.errors["params"]
    assert not AlertRule.objects.exists()


def test_a_metric_rule_needs_a_project_and_group_by_a_list(admin_client, project):
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), form_data(project, project=""))
    assert "reads one project" in str(response.context["adminform"].form.errors["project"])
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), form_data(project, group_by='"host"'))
    assert "group_by: a list of label names" in str(response.context["adminform"].form.errors["group_by"])
    assert not AlertRule.objects.exists()


def test_the_rule_page_lists_its_transitions(admin_client, project):
    rule = RuleFactory(project=project)
    instance = RuleInstance.objects.create(rule=rule, fingerprint="f" * 64, labels={"host": "a"}, state="firing")
    RuleTransition.objects.create(
        rule=rule,
        instance=instance,
        at=timezone.now(),
        from_state="pending",
        to_state="firing",
        reason="value 91 breaches (threshold 80)",
        values={"value": 91, "threshold": 80},
    )
    page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk])).content.decode()
    assert "value 91 breaches (threshold 80)" in page and "host=a" in page
    assert reverse("admin:alerts_alertrule_preview", args=[rule.pk]) in page
    listing = admin_client.get(reverse("admin:alerts_alertrule_changelist"))
    assert listing.status_code == 200 and rule.name in listing.content.decode()


def test_the_preview_counts_firings_over_seven_days_and_draws_the_chart(admin_client, project):
    now = timezone.now().replace(second=0, microsecond=0)
    series = metric_series(project, "cpu")
    # Two separate bursts of 30 minutes at 95 %, on a background of 40 %.
    for minutes_ago in range(0, 7 * 24 * 60, 10):
        put_minute(series, now - timedelta(minutes=minutes_ago), 40.0)
    for burst_start in (now - timedelta(days=5), now - timedelta(days=2)):
        for minute in range(30):
            put_minute(series, burst_start + timedelta(minutes=minute), 95.0)
    rule = RuleFactory(
        project=project,
        params={"metric": "cpu", "tags": {}, "agg": "max", "window_minutes": 10, "operator": "gt", "threshold": 80},
        for_seconds=600,
    )

    with time_machine.travel(now + timedelta(seconds=5), tick=False):
        page = admin_client.get(reverse("admin:alerts_alertrule_preview", args=[rule.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert "This rule would have fired 2 times in the last 7 days." in body
    assert "data-lookout-chart" in body and "threshold" in body
    assert not RuleTransition.objects.exists()  # the preview writes nothing


def test_a_kind_without_history_says_so(admin_client, project):
    rule = RuleFactory(project=project, kind="certificate_expiry", params={"days": 14})
    page = admin_client.get(reverse("admin:alerts_alertrule_preview", args=[rule.pk])).content.decode()
    assert "No preview" in page and "reads the present state only" in page


def test_the_editor_needs_login(client, project):
    rule = RuleFactory(project=project)
    for url in (
        reverse("admin:alerts_alertrule_changelist"),
        reverse("admin:alerts_alertrule_preview", args=[rule.pk]),
    ):
        assert client.get(url).status_code == 302


def test_editing_the_params_resolves_what_the_old_params_fired(admin_client, project, signals):
    rule = RuleFactory(
        project=project,
        name="CPU high",
        params={
            "metric": "cpu",
            "tags": {},
            "agg": "avg",
            "window_minutes": 5,
            "operator": "gt",
            "threshold": 85.0,
            "recovery_threshold": None,
            "group_by_tag": "host",
            "per_series": False,
        },
    )
    RuleInstance.objects.create(
        rule=rule, fingerprint="a" * 64, labels={"host": "a"}, state="firing", fired_at=timezone.now()
    )
    RuleInstance.objects.create(rule=rule, fingerprint="b" * 64, labels={"host": "b"}, state="pending")

    response = admin_client.post(
        reverse("admin:alerts_alertrule_change", args=[rule.pk]),
        form_data(project, params='{"metric": "cpu", "threshold": 85, "group_by_tag": "pool"}'),
    )

    assert response.status_code == 302
    assert list(RuleInstance.objects.values_list("labels", "state")) == [({"host": "a"}, "resolved")]
    transition = RuleTransition.objects.get()
    assert transition.reason == "the rule's params changed"
    [signal] = signals
    assert signal.status == "resolved" and signal.labels["host"] == "a"


PER_HOST = '{"metric": "cpu", "agg": "avg", "window_minutes": 5, "operator": "gt", "threshold": 85, "per_series": true}'


def test_changing_a_rules_grouping_resolves_its_alerts_where_they_were_grouped(admin_client, project, tick):
    t0 = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    admin_client.post(
        reverse("admin:alerts_alertrule_add"), form_data(project, group_by='["host"]', for_seconds=0, params=PER_HOST)
    )
    rule = AlertRule.objects.get()
    AlertRule.objects.filter(pk=rule.pk).update(next_evaluation_at=t0)
    series = metric_series(project, "cpu", {"host": "a"})
    for minute in range(5):
        put_minute(series, t0 - timedelta(minutes=minute), 95.0)
    tick(t0 + timedelta(seconds=30))
    (incident,) = Incident.objects.all()
    assert incident.dedup_key == f"rule:{rule.pk}:a"

    response = admin_client.post(
        reverse("admin:alerts_alertrule_change", args=[rule.pk]),
        form_data(project, group_by='["host"]', for_seconds=0, params=PER_HOST, group_across_rules="on"),
    )
    assert response.status_code == 302

    incident.refresh_from_db()
    assert incident.status == "resolved"  # under the old key, where the alert was
    assert incident.alerts.get().status == "resolved"


def test_the_add_form_offers_the_example_rules_and_fills_itself_in_from_one(admin_client, project):
    page = admin_client.get(reverse("admin:alerts_alertrule_add")).content.decode()
    for name in (
        "Error rate above 5 %",
        "p95 latency above 2 s",
        "Memory above 85 %",
        "Database connections above 90 % of the pool",
        "API down for 5 minutes",
    ):
        assert name in page

    filled = admin_client.get(reverse("admin:alerts_alertrule_add") + "?example=p95-latency")
    form = filled.context["adminform"].form
    assert form.initial["name"] == "p95 latency above 2 s" and form.initial["for_seconds"] == 300
    data = {name: form[name].value() for name in ("params", "summary", "severity", "kind")}
    response = admin_client.post(
        reverse("admin:alerts_alertrule_add"), form_data(project, name="p95 latency above 2 s", for_seconds=300, **data)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert rule.params["metric"] == "transaction.duration" and rule.params["agg"] == "p95"
    assert rule.params["threshold"] == 2000 and rule.params["group_by_tag"] == "transaction"


def test_saving_a_rule_unchanged_keeps_its_firing_alerts(admin_client, project, signals):
    admin_client.post(reverse("admin:alerts_alertrule_add"), form_data(project, group_by='["host"]'))
    rule = AlertRule.objects.get()
    RuleInstance.objects.create(
        rule=rule, fingerprint="a" * 64, labels={"host": "a"}, state="firing", fired_at=timezone.now()
    )

    # The same rule, its params written without the defaults the form fills in.
    response = admin_client.post(
        reverse("admin:alerts_alertrule_change", args=[rule.pk]), form_data(project, group_by='[ "host" ]')
    )

    assert response.status_code == 302
    assert RuleInstance.objects.get().state == "firing"
    assert signals == []
