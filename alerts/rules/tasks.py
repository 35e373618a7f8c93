"""The evaluator tick (queue default): beat calls it every 5 s; rules keep their own intervals."""

from celery import shared_task
from django.utils import timezone

from alerts.rules.services.evaluation import rules_evaluate_due


@shared_task(name="rules.evaluate_due")
def evaluate_due_rules() -> int:
    return rules_evaluate_due(now=timezone.now())
