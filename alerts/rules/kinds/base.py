"""What every rule kind offers the evaluator and the editor: its params, checked, and its samples.

A kind reads facts only through monitoring's selectors and answers one Sample per series
it watches. It never decides states: pending, firing and the policies are the evaluator's
(alerts.rules.states), so every kind gets the same for/keep-firing/no-data behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django import forms

    from alerts.models import AlertRule

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda value, threshold: value > threshold,
    "ge": lambda value, threshold: value >= threshold,
    "lt": lambda value, threshold: value < threshold,
    "le": lambda value, threshold: value <= threshold,
    "eq": lambda value, threshold: value == threshold,
}
SYMBOLS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "="}


@dataclass(frozen=True)
class Sample:
    """One series at one evaluation. `value` None means the series had no data.

    `recovered` is what a firing series must reach to clear: by default simply "not
    breached"; with a recovery threshold it is stricter, which gives hysteresis."""

    labels: dict[str, str]
    value: float | None
    breached: bool
    recovered: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # extra values stored on transitions

    def __post_init__(self) -> None:
        if self.recovered is None:
            object.__setattr__(self, "recovered", not self.breached)


def params_error(name: str, why: str) -> ValidationError:
    return ValidationError({"params": f"{name}: {why}"})


class Params:
    """Reads one kind's params, each check naming the field it refused."""

    def __init__(self, params: Any) -> None:
        if not isinstance(params, dict):
            raise ValidationError({"params": "params: must be a JSON object"})
        self.raw = params

    def text(
        self, name: str, *, default: str | None = None, choices: Collection[str] | None = None, max_length: int = 200
    ) -> str:
        value = self.raw.get(name, default)
        if value is None or not isinstance(value, str) or (not value.strip() and default is None):
            raise params_error(name, "required, as text")
        value = value.strip()
        if len(value) > max_length:
            raise params_error(name, f"at most {max_length} characters")
        if choices is not None and value not in choices:
            raise params_error(name, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def number(
        self,
        name: str,
        *,
        default: float | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        optional: bool = False,
    ) -> float | None:
        value = self.raw.get(name, default)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise params_error(name, "required, as a number")
        if minimum is not None and value < minimum:
            raise params_error(name, f"must be at least {minimum:g}")
        if maximum is not None and value > maximum:
            raise params_error(name, f"must be at most {maximum:g}")
        return float(value)

    def integer(self, name: str, *, default: int | None = None, minimum: int = 1, maximum: int | None = None) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise params_error(name, "required, as a whole number")
        if value < minimum or (maximum is not None and value > maximum):
            raise params_error(
                name, f"must be between {minimum} and {maximum}" if maximum else f"must be at least {minimum}"
            )
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise params_error(name, "must be true or false")
        return value

    def tags(self, name: str) -> dict[str, str]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise params_error(name, 'must be an object of text tags, e.g. {"route": "/checkout"}')
        return value

    def ids(self, name: str) -> list[int] | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise params_error(name, "must be a list of ids, e.g. [3, 7]")
        return value

    def choices(self, name: str, allowed: Collection[str], *, default: list[str]) -> list[str]:
        value = self.raw.get(name, default)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise params_error(name, f"must be a non-empty list of {', '.join(allowed)}")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise params_error(name, f"{unknown[0]!r} is not one of {', '.join(allowed)}")
        return value

    def unknown(self, known: Iterable[str]) -> None:
        extra = sorted(set(self.raw) - set(known))
        if extra:
            raise params_error(extra[0], "not a parameter of this kind")


class RuleKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    # Shown in the editor: a working params object for this kind.
    example: ClassVar[dict[str, Any]]
    # Event-like kinds (a new issue, a regression) list only what is happening now: a
    # series missing from their answer has cleared, it is not "no data".
    missing_is_ok: ClassVar[bool] = False
    # Kinds that read the present state only, with no history behind it, cannot be replayed.
    replayable: ClassVar[bool] = True
    # The preview's finest step for this kind (alerts.rules.services.preview says why).
    preview_min_step: ClassVar[timedelta] = timedelta(minutes=10)

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        """The cleaned params; ValidationError({"params": "field: why"}) otherwise."""
        raise NotImplementedError

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, forms.Field] | None:
        """The editor's fields for this kind's params, keyed by param name, in display order.

        None (the default) leaves the editor with the raw JSON params field only. The editor
        (alerts.rules.forms) prefixes the names so they never clash with the rule's own
        fields, shows the chosen kind's fields, turns their cleaned values into params with
        params_from_form, then checks them with validate_params: that stays the one
        validation path (the raw JSON behind "advanced" goes through it too), and each
        "name: why" it raises lands on the field called `name`. So give a field the name of
        the param it fills, keep the fields' own checks to parsing (types, choices) and
        leave ranges and cross-field rules to validate_params.

        `project_id` is the rule's project (None on a new or an all-projects rule), for
        pickers scoped to it; alerts.rules.kinds.fields has the shared pickers."""
        return None

    @classmethod
    def params_from_form(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The params from the fields' cleaned values, before validate_params. By default a
        field is the param of its name, and an empty field (None or "") is left out so
        validate_params applies the param's default or says it is required."""
        return {name: value for name, value in values.items() if value is not None and value != ""}

    @classmethod
    def form_initial(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The fields' values for stored params: the inverse of params_from_form."""
        return dict(params)

    @classmethod
    def evaluate(cls, rule: AlertRule, now: datetime) -> list[Sample]:
        raise NotImplementedError

    @classmethod
    def replayer(cls, rule: AlertRule, *, start: datetime, end: datetime) -> Callable[[datetime], list[Sample]]:
        """How the preview (alerts.rules.services.preview) evaluates the rule at past moments
        between start and end, oldest first. By default evaluate() at each moment, for kinds
        that read history the way they read the present (metrics, issues). A kind whose
        evaluate reads a present state overrides this to load its history once and answer
        each moment from it (the uptime kinds replay their targets' flips)."""
        return lambda moment: cls.evaluate(rule, moment)

    @classmethod
    def evaluate_many(cls, rules: list[AlertRule], now: datetime) -> dict[int, list[Sample] | Exception]:
        """Each rule's samples, or what it raised. Kinds whose reads batch well override this."""
        answers: dict[int, list[Sample] | Exception] = {}
        for rule in rules:
            try:
                answers[rule.pk] = cls.evaluate(rule, now)
            except Exception as exc:  # noqa: BLE001  one rule's failure is its own
                answers[rule.pk] = exc
        return answers

    @classmethod
    def needs_project(cls, params: dict[str, Any]) -> bool:
        """Kinds that read a project's own data (metrics, releases) cannot read across projects."""
        return False

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        """The line drawn on the preview chart."""
        return params.get("threshold")

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        """The unit of the samples' values, for the preview chart's axis ("" when unitless)."""
        return ""

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return cls.label

    @classmethod
    def alert_severity(cls, params: dict[str, Any], labels: dict[str, str]) -> str | None:
        """The incident severity a series of this kind asks for, from its labels (an error
        issue's own severity); None (the default) leaves the rule's severity."""
        return None

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """The alert in words, cause and observed value, for its title and notifications:
        "storefront down: connection refused to …". `detail` is what the evaluation stored
        (the sample's detail); None leaves the evaluator's generic sentence."""
        return None


def quantity(metric: str, value: float) -> str:
    """A metric's value as people read it. Metrics named for a time (latency, duration, the
    Web Vitals) are in milliseconds by convention (the SDKs send them so): 2800 reads 2.8 s."""
    lowered = metric.lower()
    if any(word in lowered for word in TIME_WORDS):
        if abs(value) >= 1000:
            return f"{value / 1000:.3g} s"
        return f"{value:.3g} ms"
    return f"{value:.4g}"


TIME_WORDS = ("latency", "duration", "time", "ms", "lcp", "fcp", "ttfb", "inp", "fid")
