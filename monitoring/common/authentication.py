"""The REST API's side of credentials: where a request may carry one, and errors that name it."""

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from monitoring.common.credentials import MalformedCredential, bearer_token


class CredentialAuthentication(authentication.BaseAuthentication):
    """A credential sent as `Authorization: Bearer`, or where a subclass also accepts it.

    Browser beacons and some webhook senders cannot set headers, so a subclass may name a
    header or a query parameter to read when there is no Bearer header. A malformed Bearer
    header is refused rather than skipped: the client meant to send a credential there.
    """

    field = "Authorization"  # how every error message names the credential
    realm = ""
    header: str | None = None
    query_param: str | None = None

    def presented(self, request: Request) -> str | None:
        try:
            token = bearer_token(request.headers.get("Authorization"))
        except MalformedCredential as exc:
            raise exceptions.AuthenticationFailed(f"{self.field}: {exc}.") from None
        if token is None and self.header:
            token = request.headers.get(self.header) or None
        if token is None and self.query_param:
            token = request.query_params.get(self.query_param) or None
        return token

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.realm}"'
