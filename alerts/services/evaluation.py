"""The evaluator: claim due rules, read each one's samples, move its instances' states,
store every transition and hand firing and resolved alerts to the incidents engine.

Claiming moves a rule's `next_evaluation_at` forward inside a short transaction (SKIP
LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE), so several ticks at once never evaluate a
rule twice; each rule is then evaluated in its own transaction, which also holds the call
to alerts_receive, so an instance's state and its incident never disagree.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from alerts.models import AlertRule, RuleInstance, RuleTransition
from alerts.rules.base import RuleKind
from alerts.rules.registry import RULE_KINDS
from alerts.rules.states import Observation, State, advance, observe

logger = logging.getLogger(__name__)

CLAIM_CHUNK = 500
MAX_PER_TICK = 20_000
DEDUP_KEY_MAX = 255
_INSTANCE_FIELDS = ["labels", "state", "active_since", "fired_at", "cleared_at", "last_value", "last_evaluated_at"]


@dataclass(frozen=True)
class Outcome:
    transitions: list[RuleTransition]
    signals: list


def rules_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` enabled rules due at `now` and move their next evaluation on."""
    with transaction.atomic():
        due = (AlertRule.objects.filter(enabled=True, next_evaluation_at__lte=now).order_by("next_evaluation_at")
               .values_list("pk", "next_evaluation_at", "interval_seconds")[:limit])
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due)
        # One UPDATE per interval: on cadence the next run is due + interval; a rule already
        # a full interval behind (the evaluator was down) starts again from now.
        on_cadence, behind = defaultdict(list), defaultdict(list)
        for pk, next_at, interval in rows:
            (on_cadence if next_at + timedelta(seconds=interval) > now else behind)[interval].append(pk)
        for interval, ids in on_cadence.items():
            AlertRule.objects.filter(pk__in=ids).update(
                next_evaluation_at=F("next_evaluation_at") + timedelta(seconds=interval), last_evaluated_at=now)
        for interval, ids in behind.items():
            AlertRule.objects.filter(pk__in=ids).update(next_evaluation_at=now + timedelta(seconds=interval),
                                                        last_evaluated_at=now)
    return [pk for pk, _, _ in rows]


def rules_evaluate_due(*, now: datetime) -> int:
    """Evaluate every rule due at `now`; returns how many were evaluated."""
    evaluated = 0
    while evaluated < MAX_PER_TICK:
        ids = rules_claim_due(now=now, limit=CLAIM_CHUNK)
        if not ids:
            break
        rules = AlertRule.objects.filter(pk__in=ids).select_related("project")
        instances = defaultdict(dict)
        for instance in RuleInstance.objects.filter(rule_id__in=ids):
            instances[instance.rule_id][instance.fingerprint] = instance
        for rule in rules:
            rule_evaluate(rule=rule, now=now, instances=instances[rule.pk])
            evaluated += 1
        if len(ids) < CLAIM_CHUNK:
            break
    return evaluated


def rule_evaluate(*, rule: AlertRule, now: datetime, instances: dict[str, RuleInstance] | None = None) -> Outcome:
    """One evaluation of one rule (claimed by the caller)."""
    if instances is None:
        instances = {i.fingerprint: i for i in RuleInstance.objects.filter(rule=rule)}
    kind = RULE_KINDS.get(rule.kind)
    samples, error = None, ""
    try:
        if kind is None:
            raise ValueError(f"kind: {rule.kind!r} is not a rule kind")
        samples = kind.evaluate(rule, now)
    except Exception as exc:  # noqa: BLE001  a broken rule is recorded and policed, never stops the tick
        error = f"{type(exc).__name__}: {exc}"[:400]
        logger.warning("rule %s (%s) failed to evaluate: %s", rule.pk, rule.kind, error)
    observations = observe(rule=rule, kind=kind or RuleKind, samples=samples, error=error, known=instances)
    try:
        with transaction.atomic():
            outcome = _apply(rule, kind, observations, instances, now)
            if outcome.signals:
                _receive(outcome.signals, now)
    except Exception as exc:  # noqa: BLE001  retried at the next interval, from the unchanged state
        error = f"storing the evaluation failed: {type(exc).__name__}: {exc}"[:400]
        logger.exception("rule %s: %s", rule.pk, error)
        outcome = Outcome([], [])
    if rule.last_error != error:
        AlertRule.objects.filter(pk=rule.pk).update(last_error=error)
        rule.last_error = error
    return outcome


def _apply(rule: AlertRule, kind, observations: list[Observation], instances: dict, now: datetime) -> Outcome:
    transitions, signals, changed, created = [], [], [], []
    for observation in observations:
        instance = instances.get(observation.fingerprint)
        fresh = instance is None
        if fresh:
            instance = RuleInstance(rule=rule, fingerprint=observation.fingerprint, labels=observation.labels)
        moved = advance(instance, condition=observation.condition, now=now, for_seconds=rule.for_seconds,
                        keep_firing_for_seconds=rule.keep_firing_for_seconds)
        if observation.value is not None:
            instance.last_value = observation.value
        if fresh and moved is None:
            continue  # a healthy series gets no row: the store grows with what happens, not with series
        if not (moved or instance.state in (State.PENDING, State.FIRING)):
            continue  # nothing to record on an idle instance
        instance.last_evaluated_at = now
        (created if fresh else changed).append(instance)
        if moved:
            transitions.append(RuleTransition(rule=rule, instance=instance, at=now, from_state=moved[0],
                                              to_state=moved[1], reason=observation.reason[:500],
                                              values=observation.values))
            if moved[1] in (State.FIRING, State.RESOLVED):
                signals.append(_signal(rule, kind, instance, observation, now))
    for instance in created:
        instance.save()
        instances[instance.fingerprint] = instance
    if changed:
        RuleInstance.objects.bulk_update(changed, _INSTANCE_FIELDS)
    for transition in transitions:
        transition.instance_id = transition.instance.pk
    RuleTransition.objects.bulk_create(transitions)
    return Outcome(transitions, signals)


def alert_labels(rule: AlertRule, labels: dict[str, str]) -> dict[str, str]:
    """The series' labels, then the rule's own, then the ones the engine owns."""
    merged = {**labels, **{str(k): str(v) for k, v in (rule.labels or {}).items()},
              "alertname": rule.name, "severity": rule.severity, "rule_id": str(rule.pk)}
    if rule.project_id is not None:
        merged["project"] = rule.project.slug
    return merged


def dedup_key(rule: AlertRule, labels: dict[str, str], fingerprint: str) -> str:
    if not rule.group_by:
        return f"rule:{rule.pk}:{fingerprint}"
    key = f"rule:{rule.pk}:" + ",".join(labels.get(name, "") for name in rule.group_by)
    if len(key) > DEDUP_KEY_MAX:
        # Rare: group values too long for the column, so they are hashed.
        key = f"rule:{rule.pk}:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _summary(rule: AlertRule, kind, value: float | None, labels: dict) -> str:
    shown = "no data" if value is None else f"{value:g}"
    if rule.summary:
        return rule.summary.replace("{value}", shown)[:500]
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    described = kind.describe(rule.params) if kind else rule.kind
    return f"{rule.name}: {described}; value {shown}{f' ({where})' if where else ''}"[:500]


def _signal(rule: AlertRule, kind, instance: RuleInstance, observation: Observation, now: datetime):
    from alerts.services.incidents import AlertSignal  # the incidents branch; imported when first needed

    labels = alert_labels(rule, instance.labels)
    firing = instance.state == State.FIRING
    return AlertSignal(
        source="rule", fingerprint=instance.fingerprint, dedup_key=dedup_key(rule, labels, instance.fingerprint),
        labels=labels, status="firing" if firing else "resolved", severity=rule.severity,
        summary=_summary(rule, kind, instance.last_value, instance.labels),
        at=instance.fired_at if firing else now, value=instance.last_value,
        project_id=rule.project_id, rule_id=rule.pk,
    )


def _receive(signals: list, now: datetime) -> None:
    from alerts.services.incidents import alerts_receive

    alerts_receive(signals=signals, now=now)
