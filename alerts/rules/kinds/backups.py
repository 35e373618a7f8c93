"""Backups that failed, are overdue, go unproven, failed their proof, or shrank.

Each kind reads the facts `backups` keeps about each plan through one selector,
backups.selectors.plan_facts(now), once per tick for all its rules, and answers one series
per plan, labelled `plan`. Plans belong to the portal, not to a project: a rule watches every
plan, or the plans it names in `plans`. A disabled plan is never breached, so a rule about it
resolves instead of waiting on data that will not come.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils import timezone
from unfold.widgets import UnfoldAdminSelectMultipleWidget

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample, params_error
from backups.selectors import PlanFacts, plan_facts

if TYPE_CHECKING:
    from alerts.models import AlertRule

SCOPE: dict[str, Any] = {"plans": []}


def _plans(p: Params) -> list[str]:
    """The plans a rule watches, by name; none: every plan. A name no plan has is refused, so
    a typo cannot leave a rule watching nothing."""
    names = p.raw.get("plans", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise params_error("plans", 'must be a list of backup plan names, e.g. ["portal"]; empty: every plan')
    names = [n.strip() for n in names]
    if names:
        known = {facts.plan_name for facts in plan_facts(timezone.now())}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise params_error("plans", f"no backup plan named {', '.join(repr(n) for n in unknown)}")
    return names


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _said(iso: str | None) -> str:
    """A stored moment as people read it in a title: '2026-03-10 02:01 UTC'."""
    if not iso:
        return "never"
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _size(n: float | None) -> str:
    value = float(n or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # never reached: the loop returns at TB


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


class BackupKind(RuleKind):
    """What the five backup kinds share: the plans scope, one read per tick, one series per plan."""

    # Facts as they are now: the plan's history is not replayed into the preview.
    replayable = False
    ok_words: ClassVar[str] = "ok"
    # The param drawn as the preview's line, and the unit of the values, where there are.
    threshold_param: ClassVar[str | None] = None
    unit: ClassVar[str] = ""

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {**cls.own_params(p), "plans": _plans(p)}

    @classmethod
    def own_params(cls, p: Params) -> dict[str, Any]:
        return {}

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, forms.Field]:
        return {**cls.own_fields(), "plans": cls.plans_field()}

    @classmethod
    def own_fields(cls) -> dict[str, forms.Field]:
        return {}

    @staticmethod
    def plans_field() -> forms.Field:
        names = [facts.plan_name for facts in plan_facts(timezone.now())]
        return forms.MultipleChoiceField(
            label="Backup plans",
            choices=[(n, n) for n in names],
            required=False,
            widget=UnfoldAdminSelectMultipleWidget(attrs={"size": min(max(len(names), 3), 8)}),
            help_text="None chosen: every plan, also those added later." if names else "No backup plans yet.",
        )

    @classmethod
    def evaluate(cls, rule: AlertRule, now: datetime) -> list[Sample]:
        return cls._samples(rule, plan_facts(now), now)

    @classmethod
    def evaluate_many(cls, rules: list[AlertRule], now: datetime) -> dict[int, list[Sample] | Exception]:
        try:
            facts = plan_facts(now)  # once for every rule of the kind
        except Exception as exc:  # noqa: BLE001  the read failing is every rule's error (error_policy)
            return {rule.pk: exc for rule in rules}
        answers: dict[int, list[Sample] | Exception] = {}
        for rule in rules:
            try:
                answers[rule.pk] = cls._samples(rule, facts, now)
            except Exception as exc:  # noqa: BLE001  one rule's failure is its own
                answers[rule.pk] = exc
        return answers

    @classmethod
    def _samples(cls, rule: AlertRule, facts: list[PlanFacts], now: datetime) -> list[Sample]:
        wanted = set(rule.params.get("plans") or [])
        samples = []
        for plan in facts:
            if wanted and plan.plan_name not in wanted:
                continue
            value, breached, detail = cls.measure(rule.params, plan, now)
            if not plan.enabled:
                breached = False
            samples.append(Sample(labels={"plan": plan.plan_name}, value=value, breached=breached, detail=detail or {}))
        return samples

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        """(value, breached, detail for the title) of one plan."""
        raise NotImplementedError

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return params.get(cls.threshold_param) if cls.threshold_param else None

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return cls.unit

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        plan = labels.get("plan")
        if not plan:
            return None
        if not detail.get("breached"):
            return f"backup '{plan}' {cls.ok_words}"
        return cls.why(plan, params, value, detail)

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        raise NotImplementedError


class BackupFailed(BackupKind):
    kind = "backup_failed"
    label = "Backups: a backup failed"
    example = {**SCOPE}
    ok_words = "succeeded since its last failure"

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        # Failing while the newest outcome is a failure: the next success clears it.
        failing = plan.last_failure_at is not None and (
            plan.last_success_at is None or plan.last_failure_at > plan.last_success_at
        )
        detail = {
            "breached": failing,
            "failed_at": _when(plan.last_failure_at),
            "error": _first_line(plan.last_failure_error),
            "failure_kind": plan.last_failure_kind,
        }
        return (1.0 if failing else 0.0), failing, detail

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return "backup failed"

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        error = detail.get("error")
        return (
            f"backup '{plan}' failed: {error}" if error else f"backup '{plan}' failed at {_said(detail['failed_at'])}"
        )


class BackupOverdue(BackupKind):
    kind = "backup_overdue"
    label = "Backups: a plan overdue (no success within its schedule and grace)"
    example = {**SCOPE}
    ok_words = "on schedule"
    unit = "hours since the last success"

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        since = plan.last_success_at or plan.due_since
        hours = round((now - since).total_seconds() / 3600, 2) if since else None
        detail = {
            "breached": plan.overdue,
            "last_success_at": _when(plan.last_success_at),
            "due_since": _when(plan.due_since),
            "error": _first_line(plan.last_failure_error) if plan.overdue else "",
        }
        return hours, plan.overdue, detail

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return "backup overdue"

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        last = detail.get("last_success_at")
        said = f"no success since {_said(last)}" if last else "no success yet"
        due = f", due by {_said(detail['due_since'])}" if detail.get("due_since") else ""
        error = f"; last failure: {detail['error']}" if detail.get("error") else ""
        return f"backup '{plan}' overdue: {said}{due}{error}"


class BackupUnverified(BackupKind):
    kind = "backup_unverified"
    label = "Backups: no backup verified for N days"
    example = {"days": 7, **SCOPE}
    ok_words = "verified"
    threshold_param, unit = "days", "days"

    @classmethod
    def own_params(cls, p: Params) -> dict[str, Any]:
        return {"days": p.number("days", default=7, minimum=0.1, maximum=365)}

    @classmethod
    def own_fields(cls) -> dict[str, forms.Field]:
        return {"days": f.number_field(unit="days", initial=7, label="Unverified for more than")}

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        if plan.last_success_at is None:
            return None, False, {"breached": False}  # nothing to verify yet: overdue says the rest
        if plan.newest_success_verified_at is not None:
            return 0.0, False, {"breached": False}
        # Counted from the newest proven restore point, not from the newest success: with daily
        # backups the newest success is always under a day old, verified or not.
        since = plan.newest_verified_success_at or plan.first_success_at or plan.last_success_at
        days = round((now - since).total_seconds() / 86400, 2)
        breached = days > params["days"]
        detail = {
            "breached": breached,
            "last_success_at": _when(plan.last_success_at),
            "verified_success_at": _when(plan.newest_verified_success_at),
        }
        return days, breached, detail

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return f"no backup verified for more than {params['days']:g} days"

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        proven = detail.get("verified_success_at")
        said = f"its newest verified backup is from {_said(proven)}" if proven else "no backup of it was ever verified"
        return (
            f"backup '{plan}' unverified for {value or 0:.0f} days: {said}; its newest success "
            f"({_said(detail.get('last_success_at'))}) has not been proven by a test restore"
        )


class BackupVerificationFailed(BackupKind):
    kind = "backup_verification_failed"
    label = "Backups: a verification (test restore) failed"
    example = {**SCOPE}
    ok_words = "verified since its failed verification"

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        # A later passing verification of the newest backup clears it.
        failing = plan.last_verification_failed_at is not None and (
            plan.newest_success_verified_at is None
            or plan.last_verification_failed_at > plan.newest_success_verified_at
        )
        detail = {
            "breached": failing,
            "failed_at": _when(plan.last_verification_failed_at),
            "error": _first_line(plan.last_verification_error),
            "failure_kind": plan.last_verification_failure_kind,
        }
        return (1.0 if failing else 0.0), failing, detail

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return "backup verification failed"

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        error = detail.get("error")
        said = error or f"at {_said(detail.get('failed_at'))}"
        return f"verification of backup '{plan}' failed: {said}"


class BackupShrank(BackupKind):
    kind = "backup_size_drop"
    label = "Backups: the newest backup much smaller than usual"
    example = {"drop_percent": 50, **SCOPE}
    ok_words = "its usual size"
    threshold_param, unit = "drop_percent", "% smaller"

    @classmethod
    def own_params(cls, p: Params) -> dict[str, Any]:
        return {"drop_percent": p.number("drop_percent", default=50, minimum=1, maximum=99)}

    @classmethod
    def own_fields(cls) -> dict[str, forms.Field]:
        return {
            "drop_percent": f.number_field(
                unit="% smaller",
                initial=50,
                label="Alert when",
                help_text="than the median of the plan's previous seven successful runs of the same kind. "
                "An empty dump looks like a success: this is what catches it.",
            )
        }

    @classmethod
    def measure(cls, params: dict[str, Any], plan: PlanFacts, now: datetime) -> tuple[float | None, bool, dict]:
        newest, median = plan.newest_success_bytes, plan.median_bytes_last7
        if newest is None or not median:
            return None, False, {"breached": False}  # no history to compare with yet
        drop = round(100 * (1 - newest / median), 1)
        breached = drop > params["drop_percent"]
        return drop, breached, {"breached": breached, "bytes": newest, "median_bytes": median}

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return f"backup more than {params['drop_percent']:g} % smaller than its median"

    @classmethod
    def why(cls, plan: str, params: dict[str, Any], value: float | None, detail: dict[str, Any]) -> str:
        return (
            f"backup '{plan}' shrank {value or 0:.0f} % to {_size(detail.get('bytes'))} against a median of "
            f"{_size(detail.get('median_bytes'))} over its previous runs"
        )
