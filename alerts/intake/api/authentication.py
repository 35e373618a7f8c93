import json
from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from alerts.intake.services import integration_authenticate
from alerts.models import Integration
from monitoring.common.authentication import CredentialAuthentication
from monitoring.models import ApiToken


class IntegrationTokenAuthentication(CredentialAuthentication):
    """An integration's own token: `Authorization: Bearer lki_…` or `?token=` (Alertmanager's
    webhook config can carry either). The events API also takes it as the body's
    `routing_key`, where PagerDuty clients put theirs. `request.auth` is the Integration."""

    field = "token"
    realm = "alerts"
    query_param = "token"

    def authenticate(self, request: Request) -> tuple[None, Integration]:
        view = request.parser_context.get("view")
        raw = self.presented(request)
        if raw is None and getattr(view, "token_in_body", False):
            raw = self._body_token(request, view)
        if raw is None:
            raise exceptions.NotAuthenticated(
                "token: send the integration's token as 'Authorization: Bearer' or ?token=."
            )
        if raw.strip().startswith(ApiToken.TOKEN_PREFIX):
            # A person's token acts with that person's role on the REST API; alerts come in
            # through an integration, whose token names where they route and who is paged.
            raise exceptions.AuthenticationFailed(
                "token: this is a person's API token (lkt_…); the intake takes an integration's token (lki_…)."
            )
        integration = integration_authenticate(token=raw.strip(), kind=getattr(view, "integration_kind", None))
        if integration is None:
            raise exceptions.AuthenticationFailed(
                "token: unknown or revoked integration token (or one made for the other endpoint)."
            )
        return None, integration

    @staticmethod
    def _body_token(request: Request, view: Any) -> str | None:
        try:
            data = json.loads(view.read_body(request))
        except ValueError:
            return None
        key = data.get("routing_key") if isinstance(data, dict) else None
        return key if isinstance(key, str) and key else None
