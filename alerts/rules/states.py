"""The life of one rule instance: inactive → pending → firing → resolved, as Prometheus does it.

Pure: the evaluator applies it to stored RuleInstance rows and the preview to in-memory
ones, so what the preview counts is exactly what the evaluator would have done.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.models import RuleInstance
from alerts.rules.kinds.base import Sample
from alerts.rules.models import Policy

State = RuleInstance.State


@dataclass
class Replayed:
    """A RuleInstance's state fields without a row, for the preview."""

    state: str = State.INACTIVE
    active_since: datetime | None = None
    fired_at: datetime | None = None
    cleared_at: datetime | None = None
    last_value: float | None = None
    labels: dict = field(default_factory=dict)


def advance(
    instance, *, condition: bool | None, now: datetime, for_seconds: int, keep_firing_for_seconds: int
) -> tuple[str, str] | None:
    """Move `instance` by whether its condition holds now; (from, to) when its state changed.

    `condition` None keeps the last state (the keep policy): nothing moves, no clock runs.
    A firing instance's condition is "not yet recovered", so a recovery threshold holds it.
    """
    if condition is None:
        return None
    before = instance.state
    if condition:
        instance.cleared_at = None
        if before in (State.INACTIVE, State.RESOLVED):
            instance.active_since = now
            instance.fired_at = None
            if for_seconds == 0:
                return _fire(instance, now, before)
            instance.state = State.PENDING
            return before, State.PENDING
        if before == State.PENDING and now - instance.active_since >= timedelta(seconds=for_seconds):
            return _fire(instance, now, before)
        return None
    if before == State.PENDING:
        instance.state, instance.active_since = State.INACTIVE, None
        return before, State.INACTIVE
    if before == State.FIRING:
        if instance.cleared_at is None:
            instance.cleared_at = now
        if now - instance.cleared_at >= timedelta(seconds=keep_firing_for_seconds):
            instance.state = State.RESOLVED
            return before, State.RESOLVED
    return None


def _fire(instance, now: datetime, before: str) -> tuple[str, str]:
    instance.state, instance.fired_at = State.FIRING, now
    return before, State.FIRING


@dataclass(frozen=True)
class Observation:
    """What one evaluation says about one instance: does its condition hold, and why."""

    fingerprint: str
    labels: dict[str, str]
    condition: bool | None  # None: keep the last state
    reason: str
    value: float | None
    values: dict


def instance_fingerprint(rule_id: int | None, labels: dict[str, str]) -> str:
    """Stable across evaluations and unique across rules (the alert's fingerprint downstream)."""
    canonical = json.dumps([rule_id, sorted(labels.items())], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def observe(*, rule, kind, samples: list[Sample] | None, error: str | None, known: dict) -> list[Observation]:
    """One Observation per instance touched: every sample, and every known instance without one.

    `samples` None with `error` set: the kind failed (error policy). An empty list, or a
    sample whose value is None, is no data (no-data policy), unless the kind is event-like,
    where absence means the condition has cleared. When nothing is known yet and a policy
    says alert, the alert is raised on the rule itself (no labels).
    """
    threshold = kind.threshold(rule.params) if kind else None
    observations = []
    if samples is None:
        condition = _policy(rule.error_policy)
        reason = f"error ({error}); error policy {rule.error_policy}"
        return _on_all(rule, known, condition, reason, {"error": error}) or _on_rule(
            rule, condition, reason, {"error": error}
        )
    if not samples and not kind.missing_is_ok:
        condition = _policy(rule.no_data_policy)
        reason = f"no data; no-data policy {rule.no_data_policy}"
        return _on_all(rule, known, condition, reason, {}) or _on_rule(rule, condition, reason, {})
    seen = set()
    for sample in samples:
        fingerprint = instance_fingerprint(rule.pk, sample.labels)
        seen.add(fingerprint)
        values = {"value": sample.value, **({"threshold": threshold} if threshold is not None else {}), **sample.detail}
        if sample.value is None:
            condition = _policy(rule.no_data_policy)
            reason = f"no data; no-data policy {rule.no_data_policy}"
        else:
            instance = known.get(fingerprint)
            firing = instance is not None and instance.state == State.FIRING
            condition = not sample.recovered if firing else sample.breached
            reason = _reason(sample, firing, condition, threshold)
        observations.append(Observation(fingerprint, sample.labels, condition, reason, sample.value, values))
    for fingerprint, instance in known.items():
        if fingerprint in seen:
            continue
        if kind.missing_is_ok or not instance.labels:
            # Event-like kinds list only what is happening; the label-less instance stood for
            # "no data", and data is back.
            observations.append(Observation(fingerprint, instance.labels, False, "condition no longer seen", None, {}))
        else:
            condition = _policy(rule.no_data_policy)
            observations.append(
                Observation(
                    fingerprint,
                    instance.labels,
                    condition,
                    f"no data for this series; no-data policy {rule.no_data_policy}",
                    None,
                    {},
                )
            )
    return observations


def _policy(policy: str) -> bool | None:
    conditions: dict[str, bool] = {Policy.ALERT: True, Policy.OK: False}  # "keep": None
    return conditions.get(policy)


def _on_all(rule, known: dict, condition, reason: str, values: dict) -> list[Observation]:
    return [Observation(fp, instance.labels, condition, reason, None, values) for fp, instance in known.items()]


def _on_rule(rule, condition, reason: str, values: dict) -> list[Observation]:
    if not condition:
        return []  # nothing known and nothing to raise: no instance to make
    return [Observation(instance_fingerprint(rule.pk, {}), {}, condition, reason, None, values)]


def _reason(sample: Sample, firing: bool, condition: bool, threshold) -> str:
    shown = f"{sample.value:g}"
    against = f" (threshold {threshold:g})" if isinstance(threshold, (int, float)) else ""
    if firing:
        return f"value {shown} has not recovered{against}" if condition else f"value {shown} recovered{against}"
    return f"value {shown} breaches{against}" if condition else f"value {shown} within bounds{against}"
