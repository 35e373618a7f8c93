"""The evaluator: claim due rules, read each one's samples, move its instances' states,
store every transition and hand firing and resolved alerts to the incidents engine.

Claiming moves a rule's `next_evaluation_at` forward inside a short transaction (SKIP
LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE), so several ticks at once never evaluate a
rule twice. A claimed chunk is read in batches per kind, its states are worked out in
memory, and what changed is written in one transaction that also holds the call to
alerts_receive, so an instance's state and its incident never disagree; if that fails, the
chunk is written again rule by rule, so one rule's failure stays its own.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from alerts.incidents.services import incidents
from alerts.incidents.severity import Severity
from alerts.models import AlertRule, RuleInstance, RuleTransition
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.kinds.base import RuleKind, Sample
from alerts.rules.states import Observation, State, advance, observe
from monitoring.common.batch_update import batch_update

logger = logging.getLogger(__name__)

CLAIM_CHUNK = 500
MAX_PER_TICK = 20_000
DEDUP_KEY_MAX = 255
_INSTANCE_FIELDS = ["labels", "state", "active_since", "fired_at", "cleared_at", "last_value", "last_evaluated_at"]


def rules_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` enabled rules due at `now` and move their next evaluation on."""
    with transaction.atomic():
        due = (
            AlertRule.objects.filter(enabled=True, next_evaluation_at__lte=now)
            .order_by("next_evaluation_at")
            .values_list("pk", "next_evaluation_at", "interval_seconds")[:limit]
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due)
        # One UPDATE per interval: on cadence the next run is due + interval; a rule already
        # a full interval behind (the evaluator was down) starts again from now.
        on_cadence: defaultdict[int, list[int]] = defaultdict(list)
        behind: defaultdict[int, list[int]] = defaultdict(list)
        for pk, next_at, interval in rows:
            (on_cadence if next_at + timedelta(seconds=interval) > now else behind)[interval].append(pk)
        for interval, ids in on_cadence.items():
            AlertRule.objects.filter(pk__in=ids).update(
                next_evaluation_at=F("next_evaluation_at") + timedelta(seconds=interval), last_evaluated_at=now
            )
        for interval, ids in behind.items():
            AlertRule.objects.filter(pk__in=ids).update(
                next_evaluation_at=now + timedelta(seconds=interval), last_evaluated_at=now
            )
    return [pk for pk, _, _ in rows]


def rules_evaluate_due(*, now: datetime) -> int:
    """Evaluate every rule due at `now`; returns how many were evaluated."""
    evaluated = 0
    while evaluated < MAX_PER_TICK:
        ids = rules_claim_due(now=now, limit=CLAIM_CHUNK)
        if not ids:
            break
        rules = AlertRule.objects.filter(pk__in=ids).select_related("project")
        instances: defaultdict[int, dict[str, RuleInstance]] = defaultdict(dict)
        for instance in RuleInstance.objects.filter(rule_id__in=ids):
            instances[instance.rule_id][instance.fingerprint] = instance
        by_kind: defaultdict[str, list[AlertRule]] = defaultdict(list)
        for rule in rules:
            by_kind[rule.kind].append(rule)
        plans = []
        for key, group in by_kind.items():
            kind = RULE_KINDS.get(key)
            # Kinds read a whole chunk's rules at once where they can (metric rules: per project).
            answers: dict[int, list[Sample] | Exception] = kind.evaluate_many(group, now) if kind else {}
            plans += [_evaluate(rule, kind, answers.get(rule.pk), instances[rule.pk], now) for rule in group]
        _store(plans, now)
        evaluated += len(plans)
        if len(ids) < CLAIM_CHUNK:
            break
    return evaluated


@dataclass
class _Plan:
    rule: AlertRule
    error: str
    transitions: list[RuleTransition]
    signals: list[incidents.AlertSignal]
    created: list[RuleInstance]
    changed: list[RuleInstance]
    owners: list[RuleInstance] = field(default_factory=list)  # the instance of each transition

    @property
    def writes(self) -> bool:
        return bool(self.created or self.changed)


def _evaluate(
    rule: AlertRule,
    kind: type[RuleKind] | None,
    answer: list[Sample] | Exception | None,
    instances: dict[str, RuleInstance],
    now: datetime,
) -> _Plan:
    """Where the rule's instances move, in memory; `answer` is its samples when read in a batch."""
    if kind is None:
        answer = ValueError(f"kind: {rule.kind!r} is not a rule kind")
    elif answer is None:
        answer = kind.evaluate_many([rule], now)[rule.pk]
    samples: list[Sample] | None = None
    error = ""
    if isinstance(answer, Exception):
        error = f"{type(answer).__name__}: {answer}"[:400]
    else:
        samples = answer
    if error:
        # A broken rule is recorded and policed by its error policy; it never stops the tick.
        logger.warning("rule %s (%s) failed to evaluate: %s", rule.pk, rule.kind, error)
    try:
        observations = observe(rule=rule, kind=kind or RuleKind, samples=samples, error=error, known=instances)
        return _plan(rule, kind, observations, instances, now, error)
    except Exception as exc:  # noqa: BLE001  a bug in one rule's params or kind stays with that rule
        error = f"evaluating failed: {type(exc).__name__}: {exc}"[:400]
        logger.exception("rule %s: %s", rule.pk, error)
        return _Plan(rule, error, [], [], [], [])


def _store(plans: list[_Plan], now: datetime) -> None:
    """A chunk's writes and signals in one transaction; should that fail, again rule by rule,
    so that one rule's failure stays its own (and is retried at its next interval)."""
    writing = [plan for plan in plans if plan.writes]
    if writing:
        try:
            with transaction.atomic():
                _write(writing)
                signals = [signal for plan in writing for signal in plan.signals]
                if signals:
                    _receive(signals, now)
        except Exception:  # noqa: BLE001
            logger.warning("storing %s rule evaluations together failed; storing them one by one", len(writing))
            for plan in writing:
                _store_alone(plan, now)
    for plan in plans:
        if plan.rule.last_error != plan.error:
            AlertRule.objects.filter(pk=plan.rule.pk).update(last_error=plan.error)
            plan.rule.last_error = plan.error


def _store_alone(plan: _Plan, now: datetime) -> None:
    for instance in plan.created:
        instance.pk = None  # given by the rolled-back insert
    try:
        with transaction.atomic():
            _write([plan])
            if plan.signals:
                _receive(plan.signals, now)
    except Exception as exc:  # noqa: BLE001  the state stays as stored; the next interval tries again
        plan.error = f"storing the evaluation failed: {type(exc).__name__}: {exc}"[:400]
        logger.exception("rule %s: %s", plan.rule.pk, plan.error)


def _plan(
    rule: AlertRule,
    kind: type[RuleKind] | None,
    observations: list[Observation],
    instances: dict[str, RuleInstance],
    now: datetime,
    error: str,
) -> _Plan:
    """Move the instances in memory; what to write, if anything (most ticks: nothing)."""
    transitions: list[RuleTransition] = []
    owners: list[RuleInstance] = []
    signals: list[incidents.AlertSignal] = []
    changed: list[RuleInstance] = []
    created: list[RuleInstance] = []
    for observation in observations:
        known = instances.get(observation.fingerprint)
        fresh = known is None
        instance = known or RuleInstance(rule=rule, fingerprint=observation.fingerprint, labels=observation.labels)
        moved = advance(
            instance,
            condition=observation.condition,
            now=now,
            for_seconds=rule.for_seconds,
            keep_firing_for_seconds=rule.keep_firing_for_seconds,
        )
        if observation.value is not None:
            instance.last_value = observation.value
        if fresh and moved is None:
            continue  # a healthy series gets no row: the store grows with what happens, not with series
        if not (moved or instance.state in (State.PENDING, State.FIRING)):
            continue  # nothing to record on an idle instance
        instance.last_evaluated_at = now
        (created if fresh else changed).append(instance)
        if moved:
            # By id at write time (the instance may be inserted, rolled back and inserted again).
            transitions.append(
                RuleTransition(
                    rule=rule,
                    at=now,
                    from_state=moved[0],
                    to_state=moved[1],
                    reason=observation.reason[:500],
                    values=observation.values,
                )
            )
            owners.append(instance)
            if moved[1] in (State.FIRING, State.RESOLVED):
                signals.append(_signal(rule, kind, instance, now, observation.values))
    return _Plan(rule, error, transitions, signals, created, changed, owners=owners)


def _write(plans: list[_Plan]) -> None:
    RuleInstance.objects.bulk_create([i for plan in plans for i in plan.created], batch_size=500)
    _update_instances([i for plan in plans for i in plan.changed])
    transitions = []
    for plan in plans:
        for transition, instance in zip(plan.transitions, plan.owners, strict=True):
            transition.instance_id = instance.pk
            transitions.append(transition)
    RuleTransition.objects.bulk_create(transitions, batch_size=500)


def _update_instances(instances: list[RuleInstance]) -> None:
    # One batched statement: hundreds of rows a tick, where bulk_update's CASE would cost more CPU.
    batch_update(model=RuleInstance, rows=instances, fields=_INSTANCE_FIELDS)


def alert_severity(rule: AlertRule, labels: dict[str, str]) -> str:
    """The rule's severity, unless its kind takes the series' own (an issue's, when the rule says so)."""
    kind = RULE_KINDS.get(rule.kind)
    asked = kind.alert_severity(rule.params, labels) if kind else None
    return asked if asked in Severity.values else rule.severity


def alert_labels(rule: AlertRule, labels: dict[str, str]) -> dict[str, str]:
    """The series' labels, then the rule's own, then the ones the engine owns."""
    merged = {
        **labels,
        **{str(k): str(v) for k, v in (rule.labels or {}).items()},
        "alertname": rule.name,
        "severity": alert_severity(rule, labels),
        "rule_id": str(rule.pk),
    }
    if rule.project_id is not None and rule.project is not None:
        merged["project"] = rule.project.slug
    return merged


def _groups_across_rules(rule: AlertRule) -> bool:
    return bool(rule.group_by) and rule.group_across_rules


def dedup_key(rule: AlertRule, labels: dict[str, str], fingerprint: str) -> str:
    if not rule.group_by:
        return f"rule:{rule.pk}:{fingerprint}"
    if _groups_across_rules(rule):
        # Named label values, sorted, so rules listing the same labels in any order meet.
        scope = f"group:{rule.project_id or '-'}:"
        key = scope + ",".join(f"{name}={labels.get(name, '')}" for name in sorted(set(rule.group_by)))
    else:
        scope = f"rule:{rule.pk}:"
        key = scope + ",".join(labels.get(name, "") for name in rule.group_by)
    if len(key) > DEDUP_KEY_MAX:
        # Rare: group values too long for the column, so they are hashed.
        key = scope + hashlib.sha256(key.encode()).hexdigest()
    return key


def alert_fingerprint(rule: AlertRule, fingerprint: str) -> str:
    """The alert's identity inside its incident. A rule instance's fingerprint hashes its
    series' labels only, so two rules watching one host would be one alert in a shared
    incident; there the rule is part of it."""
    if _groups_across_rules(rule):
        return hashlib.sha256(f"{rule.pk}:{fingerprint}".encode()).hexdigest()
    return fingerprint


def _summary(
    rule: AlertRule,
    kind: type[RuleKind] | None,
    value: float | None,
    labels: dict[str, str],
    detail: dict[str, Any] | None = None,
) -> str:
    """The alert's sentence, which becomes the incident's title and heads every notification:
    the cause and the observed value in words ("storefront down after 2 consecutive failures
    in eu: connection refused to 127.0.0.1:8199"), as the kind explains them."""
    shown = "no data" if value is None else f"{value:g}"
    if rule.summary:
        return rule.summary.replace("{value}", shown)[:500]
    explained = None
    if kind is not None:
        try:
            explained = kind.explain(rule.params, labels, value, detail or {})
        except (KeyError, TypeError, ValueError):  # old params a kind no longer reads: the generic sentence
            logger.warning("rule %s: its kind could not explain the alert", rule.pk, exc_info=True)
    if explained:
        return explained[:500]
    # Ids and the project are for machines and are in the labels; the sentence names the series.
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "project" and not k.endswith("_id"))
    described = kind.describe(rule.params) if kind else rule.kind
    return f"{rule.name}: {described}; value {shown}{f' ({where})' if where else ''}"[:500]


def _signal(
    rule: AlertRule,
    kind: type[RuleKind] | None,
    instance: RuleInstance,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> incidents.AlertSignal:
    labels = alert_labels(rule, instance.labels)
    firing = instance.state == State.FIRING
    return incidents.AlertSignal(
        source="rule",
        fingerprint=alert_fingerprint(rule, instance.fingerprint),
        dedup_key=dedup_key(rule, labels, instance.fingerprint),
        labels=labels,
        status="firing" if firing else "resolved",
        severity=labels["severity"],
        summary=_summary(rule, kind, instance.last_value, instance.labels, detail),
        at=(instance.fired_at or now) if firing else now,  # a firing instance always has fired_at
        value=instance.last_value,
        project_id=rule.project_id,
        rule_id=rule.pk,
    )


def _receive(signals: list[incidents.AlertSignal], now: datetime) -> None:
    # Through the module, so that the one seam a test patches is incidents.alerts_receive.
    incidents.alerts_receive(signals=signals, now=now)


def rule_reset(*, rule: AlertRule, now: datetime, reason: str) -> int:
    """Resolve the rule's firing instances and forget the rest: after its kind, params or
    grouping changed (its old series may never be seen again, so nothing would clear them)
    or it was disabled. Returns how many alerts were resolved."""
    with transaction.atomic():
        instances = list(RuleInstance.objects.select_for_update().filter(rule=rule))
        firing = [i for i in instances if i.state == State.FIRING]
        transitions: list[RuleTransition] = []
        signals: list[incidents.AlertSignal] = []
        kind = RULE_KINDS.get(rule.kind)
        for instance in firing:
            instance.state, instance.cleared_at = State.RESOLVED, now
            transitions.append(
                RuleTransition(
                    rule=rule,
                    instance=instance,
                    at=now,
                    from_state=State.FIRING,
                    to_state=State.RESOLVED,
                    reason=reason[:500],
                )
            )
            signals.append(_signal(rule, kind, instance, now))
        _update_instances(firing)
        RuleTransition.objects.bulk_create(transitions)
        RuleInstance.objects.filter(rule=rule).exclude(pk__in=[i.pk for i in firing]).delete()
        if signals:
            _receive(signals, now)
    return len(firing)
