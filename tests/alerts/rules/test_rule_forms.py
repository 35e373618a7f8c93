"""The rule editor's fields: each kind's params as fields, bad values shown on their field,
the raw JSON behind "advanced" checked the same way, and never a 500."""

import pytest
from django.urls import reverse

from alerts.models import AlertRule
from alerts.rules.forms import AlertRuleForm, rule_form_class
from alerts.rules.kinds import RULE_KINDS
from tests.alerts.rules.factories import RuleFactory, metric_series
from tests.alerts.rules.test_admin_rules import form_data
from tests.factories import ProjectFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

ADD = "admin:alerts_alertrule_add"


def rule_post(project, kind: str, **params):
    """What the browser posts for a rule edited with the fields (none of the JSON)."""
    data = form_data(project, name="A rule", kind=kind, params="{}", for_seconds=0)
    return {**data, **{f"param_{name}": value for name, value in params.items()}}


def field_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


METRIC = {"metric": "http.latency", "tags": "route=/checkout", "agg": "p95", "window_minutes": "10", "operator": "gt"}


def test_a_metric_rule_is_made_of_fields_and_saved_as_params(admin_client, project):
    metric_series(project, "http.latency")
    page = admin_client.get(reverse(ADD) + f"?kind=metric_threshold&project={project.pk}").content.decode()
    # The metric box suggests what the project has sent; the threshold says its unit.
    assert 'list="id_param_metric-suggestions"' in page and '<option value="http.latency">' in page
    assert "milliseconds for times" in page

    response = admin_client.post(reverse(ADD), rule_post(project, "metric_threshold", **METRIC, threshold="2000"))
    assert response.status_code == 302, field_errors(response)
    rule = AlertRule.objects.get()
    assert rule.params == {
        "metric": "http.latency",
        "tags": {"route": "/checkout"},
        "agg": "p95",
        "window_minutes": 10,
        "operator": "gt",
        "threshold": 2000.0,
        "recovery_threshold": None,
        "group_by_tag": "",
        "per_series": False,
    }
    # Reopened, the fields hold the saved values.
    page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk])).content.decode()
    assert 'value="route=/checkout"' in page and 'value="2000"' in page
    assert '<option value="p95" selected>' in page


@pytest.mark.parametrize(
    ("values", "field", "says"),
    [
        ({"threshold": "lots"}, "param_threshold", "Enter a number."),
        ({"threshold": ""}, "param_threshold", "This field is required."),
        ({"threshold": "5", "window_minutes": "0"}, "param_window_minutes", "must be between 1 and 1440"),
        ({"threshold": "5", "tags": "route"}, "param_tags", "'route' is not key=value"),
        ({"threshold": "5", "agg": "median"}, "param_agg", "Select a valid choice"),
        # Checked by the kind's validate_params, then shown on the field it names.
        ({"threshold": "100", "recovery_threshold": "150"}, "param_recovery_threshold", "at or below the threshold"),
        ({"threshold": "5", "group_by_tag": "route", "per_series": "on"}, "param_group_by_tag", "not both"),
    ],
)
def test_a_bad_metric_value_is_shown_on_its_field(admin_client, project, values, field, says):
    response = admin_client.post(reverse(ADD), rule_post(project, "metric_threshold", **{**METRIC, **values}))
    errors = field_errors(response)
    assert any(says in message for message in errors[field]), errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not AlertRule.objects.exists()


def picked(admin_client, **query) -> list[str]:
    """The names the target picker's search offers."""
    response = admin_client.get(reverse("admin:alerts_alertrule_targets"), query)
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_the_target_picker_searches_only_the_projects_targets(admin_client, project):
    mine = TargetFactory(project=project, name="storefront")
    other = TargetFactory(project=ProjectFactory(slug="elsewhere"), name="their-api")
    page = admin_client.get(reverse(ADD) + f"?kind=target_status&project={project.pk}").content.decode()
    # The page lists no target: the picker asks the search, scoped to the rule's project.
    assert "storefront" not in page and f"targets/?project={project.pk}" in page
    assert picked(admin_client, project=project.pk) == ["storefront"]
    assert picked(admin_client, project=project.pk, term="FRONT") == ["storefront"]
    assert picked(admin_client, project=project.pk, term="their") == []
    # A rule over every project names each target's project.
    assert picked(admin_client) == ["storefront (shop)", "their-api (elsewhere)"]

    post = rule_post(project, "target_status", statuses=["down", "degraded"], target_ids=[str(mine.pk)], tag="")
    response = admin_client.post(reverse(ADD), post)
    assert response.status_code == 302, field_errors(response)
    rule = AlertRule.objects.get()
    assert rule.params == {"statuses": ["down", "degraded"], "target_ids": [mine.pk], "tag": ""}
    # Reopened, the chosen target is the one option on the page.
    page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk])).content.decode()
    assert f'<option value="{mine.pk}" selected>storefront</option>' in page

    post = rule_post(project, "target_status", statuses=["down"], target_ids=[str(other.pk)])
    assert "param_target_ids" in field_errors(admin_client.post(reverse(ADD), post))


def test_a_heartbeat_rule_picks_heartbeats_and_needs_a_problem(admin_client, project):
    beat = HeartbeatFactory(target__project=project, target__name="nightly-backup")
    TargetFactory(project=project, name="storefront")
    page = admin_client.get(reverse(ADD) + f"?kind=heartbeat&project={project.pk}").content.decode()
    assert f"targets/?project={project.pk}&amp;kind=heartbeat" in page
    assert picked(admin_client, project=project.pk, kind="heartbeat") == ["nightly-backup"]

    errors = field_errors(admin_client.post(reverse(ADD), rule_post(project, "heartbeat", tag="")))
    assert errors["param_problems"] == ["This field is required."]
    post = rule_post(project, "heartbeat", problems=["late"], target_ids=[str(beat.target.pk)], tag="")
    response = admin_client.post(reverse(ADD), post)
    assert response.status_code == 302, field_errors(response)
    assert AlertRule.objects.get().params["target_ids"] == [beat.target.pk]


def test_the_advanced_json_is_checked_the_same_way_and_its_section_opens(admin_client, project):
    post = {
        **rule_post(project, "metric_threshold", **METRIC, threshold="5"),
        "params_as_json": "on",
        "params": '{"metric": "cpu", "threshold": 5, "agg": "median"}',
    }
    response = admin_client.post(reverse(ADD), post)
    errors = field_errors(response)
    assert "agg: 'median' is not one of" in errors["params"][0]
    body = response.content.decode()
    # The advanced section holding the error is not collapsed (no <details> around it).
    advanced = body.index("Advanced: the params as JSON")
    assert "<summary>" not in body[advanced - 400 : advanced]

    post["params"] = '{"metric": "cpu", "threshold": 5}'
    assert admin_client.post(reverse(ADD), post).status_code == 302
    assert AlertRule.objects.get().params["metric"] == "cpu"  # the JSON, not the fields


def test_switching_kind_on_a_saved_rule_starts_from_that_kinds_example(admin_client, project):
    rule = RuleFactory(project=project)
    page = admin_client.get(reverse("admin:alerts_alertrule_change", args=[rule.pk]) + "?kind=certificate_expiry")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="param_days"' in body and 'value="14"' in body and 'name="param_metric"' not in body


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "no-such-kind"},
        {"project": "abc"},
        {"project": "999999"},
        {"param_window_minutes": "1e400"},
        {"param_threshold": "nan"},
        {"param_tags": "=" * 5000},
    ],
)
def test_nonsense_is_a_field_error_never_a_500(admin_client, project, overrides):
    response = admin_client.post(
        reverse(ADD), {**rule_post(project, "metric_threshold", **METRIC, threshold="5"), **overrides}
    )
    assert response.status_code == 200 and field_errors(response)
    assert not AlertRule.objects.exists()


def test_every_kind_with_fields_saves_its_own_example_through_them(db, project):
    """The fields and validate_params agree: each kind's example, put in the fields, comes back cleaned."""
    for key, kind in RULE_KINDS.items():
        form_class = rule_form_class(kind, project_id=project.pk)
        if not form_class.kind_names:
            continue
        initial = kind.form_initial(kind.validate_params(kind.example))
        form = form_class(instance=AlertRule(kind=key, params=kind.example, project=project))
        data = {
            **rule_post(project, key),
            **{
                form.add_prefix(f"param_{name}"): form[f"param_{name}"].field.prepare_value(value)
                for name, value in initial.items()
                if name in form_class.kind_names and value is not None and value is not False
            },
        }
        bound = form_class(data=data)
        assert bound.is_valid(), (key, bound.errors)
        assert bound.cleaned_data["params"] == kind.validate_params(kind.example), key
    assert issubclass(form_class, AlertRuleForm)


@pytest.mark.parametrize(
    "query", ["?project=abc", "?project=999999", "?kind=no-such-kind", "?kind=&project=", "?example=x"]
)
def test_odd_addresses_still_open_the_editor(admin_client, project, query):
    assert admin_client.get(reverse(ADD) + query).status_code == 200
