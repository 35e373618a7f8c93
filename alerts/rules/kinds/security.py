"""N security events of chosen kinds from one address in M minutes: a login lockout, a burst
of injection attempts. Browser security reports (CSP) are error issues of category
"security" instead, which the error kinds route with `categories`."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from monitoring.security.models import SecurityEvent
from monitoring.security.selectors import security_events_by_address

if TYPE_CHECKING:
    from alerts.models import AlertRule

KIND_WORDS = dict(SecurityEvent.Kind.choices)


class SecurityEventBurst(RuleKind):
    kind = "security_event"
    label = "Security: N events of a kind from one address in M minutes"
    example = {"kinds": ["account_lockout"], "count": 1, "window_minutes": 10}
    # An address below N is not listed: it has calmed down, it is not "no data".
    missing_is_ok = True

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {
            "kinds": p.choices("kinds", SecurityEvent.Kind.values, default=[]),
            "count": p.integer("count", default=1),
            "window_minutes": p.integer("window_minutes", default=10, maximum=7 * 24 * 60),
        }

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        kinds = f.checkboxes_field(tuple(SecurityEvent.Kind.values), label="Kinds of event")
        kinds.choices = SecurityEvent.Kind.choices  # as the security page names them: "SQL-injection attempt"
        return {
            "kinds": kinds,
            "count": f.whole_field(unit="events", label="At least", initial=1),
            "window_minutes": f.window_field(initial=10),
        }

    @classmethod
    def evaluate(cls, rule: "AlertRule", now: datetime) -> list[Sample]:
        params = rule.params
        counts = security_events_by_address(
            project_id=rule.project_id,
            kinds=params["kinds"],
            since=now - timedelta(minutes=params["window_minutes"]),
            until=now,
            at_least=params["count"],
        )
        return [
            Sample(
                labels={"security_kind": c.kind, "ip_address": c.ip_address or "unknown"},
                value=c.events,
                breached=True,
                detail={"last_at": c.last_at.isoformat()},
            )
            for c in counts
        ]

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return params.get("count")

    @classmethod
    def value_unit(cls, params: dict[str, Any]) -> str:
        return "events"

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        kinds = ", ".join(KIND_WORDS.get(k, k) for k in params["kinds"])
        return f"{kinds}: at least {params['count']} from one address in {params['window_minutes']} min"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "account lockout from 198.51.100.7: 1 event in 10 min (≥ 1)"."""
        kind = labels.get("security_kind")
        if not kind or value is None:
            return None
        events = int(value)
        return (
            f"{KIND_WORDS.get(kind, kind)} from {labels.get('ip_address', 'unknown')}: "
            f"{events} event{'s' if events != 1 else ''} in {params['window_minutes']} min (≥ {params['count']})"
        )
