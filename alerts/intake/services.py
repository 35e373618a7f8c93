"""Integration tokens: made once and shown once, stored as SHA-256, revoked, never edited."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import Integration, Severity
from monitoring.common.credentials import digest, new_secret

TOKEN_PREFIX = "lki_"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewIntegration:
    integration: Integration
    token: str  # shown once


def integration_create(
    *, name: str, kind: str, project=None, default_severity: str = Severity.HIGH, escalation_policy=None, channels=()
) -> NewIntegration:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "an integration needs a name"})
    if kind not in Integration.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(Integration.Kind.values)}"})
    if default_severity not in Severity.values:
        raise ValidationError({"default_severity": f"must be one of {', '.join(Severity.values)}"})
    token = new_secret(TOKEN_PREFIX)
    try:
        with transaction.atomic():
            integration = Integration.objects.create(
                name=name,
                kind=kind,
                project=project,
                default_severity=default_severity,
                escalation_policy=escalation_policy,
                token_prefix=token[: len(TOKEN_PREFIX) + 6],
                token_hash=digest(token),
            )
            if channels:
                integration.channels.set(channels)
    except IntegrityError:
        raise ValidationError({"name": f"an integration named {name!r} exists"}) from None
    return NewIntegration(integration=integration, token=token)


def integration_revoke(*, integration: Integration, now: datetime | None = None) -> None:
    Integration.objects.filter(pk=integration.pk, revoked_at=None).update(revoked_at=now or timezone.now())


def integration_authenticate(*, token: str, kind: str | None = None) -> Integration | None:
    """The live integration whose token this is (of `kind`, if given); None otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    rows = Integration.objects.select_related("project").filter(token_hash=digest(token), revoked_at=None)
    if kind is not None:
        rows = rows.filter(kind=kind)
    integration = rows.first()
    if integration and (integration.last_used_at is None or integration.last_used_at < now - TOUCH_EVERY):
        Integration.objects.filter(pk=integration.pk).update(last_used_at=now)
    return integration
