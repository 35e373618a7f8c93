"""The evaluator tick as Celery runs it: a beat entry every 5 s that expires, a thin task."""

from datetime import timedelta

from django.utils import timezone

from alerts.rules.tasks import evaluate_due_rules
from config.celery import app
from tests.alerts.rules.factories import RuleFactory


def test_beat_ticks_the_evaluator_every_five_seconds_and_drops_stale_ticks():
    entry = app.conf.beat_schedule["evaluate-alert-rules"]
    assert entry["task"] == "rules.evaluate_due"
    assert entry["schedule"] == 5.0 and entry["options"]["expires"] < 5
    assert "rules.evaluate_due" in app.tasks


def test_the_task_evaluates_what_is_due(project, signals):
    RuleFactory(project=project, next_evaluation_at=timezone.now() - timedelta(seconds=1))
    RuleFactory(project=project, next_evaluation_at=timezone.now() + timedelta(hours=1))
    assert evaluate_due_rules.apply().get() == 1
