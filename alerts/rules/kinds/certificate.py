"""A certificate expiring: fewer than `days` days left on a target's last seen certificate."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from alerts.rules.kinds import fields as f
from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.targets import SCOPE, scope_params, target_labels, watched_targets

if TYPE_CHECKING:
    from alerts.models import AlertRule


class CertificateExpiry(RuleKind):
    kind = "certificate_expiry"
    label = "Uptime: a certificate expiring"
    example = {"days": 14, **SCOPE}
    replayable = False

    @classmethod
    def validate_params(cls, params: Any) -> dict[str, Any]:
        p = Params(params)
        p.unknown(cls.example)
        return {"days": p.number("days", default=14, minimum=0, maximum=3650), **scope_params(p)}

    @classmethod
    def form_fields(cls, *, project_id: int | None) -> dict[str, Any]:
        return {
            "days": f.number_field(unit="days left", initial=14, label="Fewer than"),
            **f.target_scope_fields(project_id=project_id),
        }

    @classmethod
    def evaluate(cls, rule: AlertRule, now: datetime) -> list[Sample]:
        states = [s for s in watched_targets(rule) if s.cert_expires_at is not None and s.status != "paused"]
        labels = target_labels(states)
        samples = []
        for s in states:
            expires_at = s.cert_expires_at
            if expires_at is None:  # never, filtered above; the type checker cannot tell
                continue
            days_left = (expires_at - now).total_seconds() / 86400
            samples.append(
                Sample(
                    labels=labels[s.target_id],
                    value=round(days_left, 2),
                    breached=days_left < rule.params["days"],
                    detail={"expires_at": expires_at.isoformat()},
                )
            )
        return samples

    @classmethod
    def threshold(cls, params: dict[str, Any]) -> float | None:
        return params.get("days")

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        return f"certificate expires in under {params['days']:g} days"

    @classmethod
    def explain(
        cls, params: dict[str, Any], labels: dict[str, str], value: float | None, detail: dict[str, Any]
    ) -> str | None:
        """ "shop.example certificate expires in 5 days (on 2026-03-07), under 14 days"."""
        name = labels.get("target")
        if not name or value is None:
            return None
        on = f" (on {detail['expires_at'][:10]})" if detail.get("expires_at") else ""
        if value < 0:
            return f"{name} certificate expired {abs(value):.0f} days ago{on}"
        days = f"{value:.0f} day{'s' if round(value) != 1 else ''}" if value >= 1 else f"{value * 24:.0f} h"
        return f"{name} certificate expires in {days}{on}, under {params['days']:g} days"
