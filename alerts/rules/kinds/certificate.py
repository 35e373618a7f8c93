"""A certificate expiring: fewer than `days` days left on a target's last seen certificate."""

from datetime import datetime

from alerts.rules.kinds.base import Params, RuleKind, Sample
from alerts.rules.kinds.targets import SCOPE, scope_params, target_labels, watched_targets


class CertificateExpiry(RuleKind):
    kind = "certificate_expiry"
    label = "Uptime: a certificate expiring"
    example = {"days": 14, **SCOPE}
    replayable = False

    @classmethod
    def validate_params(cls, params) -> dict:
        p = Params(params)
        p.unknown(cls.example)
        return {"days": p.number("days", default=14, minimum=0, maximum=3650), **scope_params(p)}

    @classmethod
    def evaluate(cls, rule, now: datetime) -> list[Sample]:
        statuses = [s for s in watched_targets(rule) if s.cert_expires_at is not None and s.status != "paused"]
        labels = target_labels(statuses)
        samples = []
        for s in statuses:
            days_left = (s.cert_expires_at - now).total_seconds() / 86400
            samples.append(
                Sample(
                    labels=labels[s.target_id],
                    value=round(days_left, 2),
                    breached=days_left < rule.params["days"],
                    detail={"expires_at": s.cert_expires_at.isoformat()},
                )
            )
        return samples

    @classmethod
    def threshold(cls, params: dict) -> float | None:
        return params.get("days")

    @classmethod
    def describe(cls, params: dict) -> str:
        return f"certificate expires in under {params['days']:g} days"
