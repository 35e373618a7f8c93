"""Each kind checks its params and names the field it refuses; every kind's example is valid."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alerts.rules.kinds import RULE_KINDS
from tests.alerts.rules.factories import RuleFactory


@pytest.mark.parametrize("kind", sorted(RULE_KINDS))
def test_every_kind_accepts_its_own_example(kind):
    cls = RULE_KINDS[kind]
    assert cls.kind == kind and cls.label
    cleaned = cls.validate_params(cls.example)
    assert cls.validate_params(cleaned) == cleaned  # cleaning is stable: the stored form re-validates


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("metric_threshold", {"threshold": 1}, "metric: required"),
        ("metric_threshold", {"metric": "cpu", "threshold": "high"}, "threshold: required, as a number"),
        ("metric_threshold", {"metric": "cpu", "threshold": 1, "agg": "median"}, "agg: 'median' is not one of"),
        ("metric_threshold", {"metric": "cpu", "threshold": 1, "operator": "above"}, "operator: 'above' is not one of"),
        ("metric_threshold", {"metric": "cpu", "threshold": 1, "window_minutes": 0}, "window_minutes: must be between"),
        (
            "metric_threshold",
            {"metric": "cpu", "threshold": 80, "recovery_threshold": 90},
            "recovery_threshold: must be at or below the threshold 80",
        ),
        ("metric_threshold", {"metric": "cpu", "threshold": 1, "tags": ["a"]}, "tags: must be an object"),
        (
            "metric_threshold",
            {"metric": "cpu", "threshold": 1, "group_by_tag": "host", "per_series": True},
            "group_by_tag: choose",
        ),
        ("metric_threshold", {"metric": "cpu", "threshold": 1, "windw": 5}, "windw: not a parameter"),
        ("metric_threshold", [1, 2], "params: must be a JSON object"),
        ("error_frequency", {"count": 0, "window_minutes": 5}, "count: must be at least 1"),
        ("release_health", {"threshold": 120}, "threshold: must be at most 100"),
        ("release_health", {"threshold": 99, "measure": "vibes"}, "measure: 'vibes' is not one of"),
        ("target_status", {"statuses": ["sideways"]}, "statuses: 'sideways' is not one of down, degraded"),
        ("target_status", {"target_ids": "3"}, "target_ids: must be a list of ids"),
        ("certificate_expiry", {"days": -1}, "days: must be at least 0"),
        ("heartbeat", {"problems": []}, "problems: must be a non-empty list"),
        (
            "slo_burn_rate",
            {"sli": "latency", "objective": 100, "metric": "x", "threshold_ms": 5},
            "objective: must be at most",
        ),
        ("slo_burn_rate", {"sli": "latency", "objective": 99.9, "threshold_ms": 5}, "metric: required"),
        (
            "slo_burn_rate",
            {"sli": "availability_metric", "objective": 99.9, "good_metric": "ok"},
            "total_metric: required",
        ),
        ("slo_burn_rate", {"sli": "availability", "objective": 99.9}, "sli: 'availability' is not one of"),
        (
            "slo_burn_rate",
            {"sli": "latency", "objective": 99.9, "metric": "x", "threshold_ms": 5, "preset": "pager"},
            "preset: 'pager' is not one of page, ticket",
        ),
    ],
)
def test_bad_params_are_a_field_error_naming_the_field(kind, params, message):
    with pytest.raises(ValidationError) as caught:
        RULE_KINDS[kind].validate_params(params)
    [error] = caught.value.message_dict["params"]
    assert error.startswith(message), error


@pytest.mark.django_db
def test_an_interval_under_10_s_is_refused_by_the_form_check_and_by_the_database():
    rule = RuleFactory.build(interval_seconds=5)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean(exclude=["project"])
    assert "interval_seconds" in refused.value.message_dict
    rule.project.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        rule.save()  # a writer that skips validation
