import json

from rest_framework import authentication, exceptions

from alerts.intake.services import integration_authenticate


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """An integration's own token: `Authorization: Bearer lki_…` or `?token=` (Alertmanager's
    webhook config can carry either). The events API also takes it as the body's
    `routing_key`, where PagerDuty clients put theirs. `request.auth` is the Integration."""

    def authenticate(self, request):
        view = request.parser_context.get("view")
        raw = self._raw_token(request)
        if raw is None and getattr(view, "token_in_body", False):
            raw = self._body_token(request, view)
        if raw is None:
            raise exceptions.NotAuthenticated(
                "token: send the integration's token as 'Authorization: Bearer' or ?token=."
            )
        integration = integration_authenticate(token=raw.strip(), kind=getattr(view, "integration_kind", None))
        if integration is None:
            raise exceptions.AuthenticationFailed(
                "token: unknown or revoked integration token (or one made for the other endpoint)."
            )
        return None, integration

    @staticmethod
    def _raw_token(request) -> str | None:
        header = authentication.get_authorization_header(request).split()
        if len(header) == 2 and header[0].lower() == b"bearer":
            return header[1].decode(errors="replace")
        return request.query_params.get("token")

    @staticmethod
    def _body_token(request, view) -> str | None:
        try:
            data = json.loads(view.read_body(request))
        except ValueError:
            return None
        key = data.get("routing_key") if isinstance(data, dict) else None
        return key if isinstance(key, str) and key else None

    def authenticate_header(self, request):
        return 'Bearer realm="alerts"'
