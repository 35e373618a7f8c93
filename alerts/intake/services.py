"""Integration tokens: made once and shown once, stored as SHA-256, revoked, never edited."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alerts.models import Channel, EscalationPolicy, Integration, Severity
from monitoring.common.credentials import credential_by_token, new_token
from monitoring.models import Project


@dataclass(frozen=True)
class NewIntegration:
    integration: Integration
    token: str  # shown once


def integration_create(
    *,
    name: str,
    kind: str,
    project: Project | None = None,
    default_severity: str = Severity.HIGH,
    escalation_policy: EscalationPolicy | None = None,
    channels: Iterable[Channel] = (),
) -> NewIntegration:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "an integration needs a name"})
    if kind not in Integration.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(Integration.Kind.values)}"})
    if default_severity not in Severity.values:
        raise ValidationError({"default_severity": f"must be one of {', '.join(Severity.values)}"})
    made = new_token(Integration.TOKEN_PREFIX)
    try:
        with transaction.atomic():
            integration = Integration.objects.create(
                name=name,
                kind=kind,
                project=project,
                default_severity=default_severity,
                escalation_policy=escalation_policy,
                token_prefix=made.prefix,
                token_hash=made.hash,
            )
            if channels:
                integration.channels.set(channels)
    except IntegrityError:
        raise ValidationError({"name": f"an integration named {name!r} exists"}) from None
    return NewIntegration(integration=integration, token=made.token)


def integration_revoke(*, integration: Integration, now: datetime | None = None) -> None:
    integration.revoke(now=now)


def integration_authenticate(*, token: str, kind: str | None = None) -> Integration | None:
    """The live integration whose token this is (of `kind`, if given); None otherwise."""
    rows = Integration.objects.select_related("project")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return credential_by_token(rows, token)
