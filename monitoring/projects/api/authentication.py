from rest_framework import authentication, exceptions

from monitoring.projects.services.api_tokens import api_token_authenticate
from monitoring.projects.services.ingest_keys import ingest_key_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer lkt_…` for the admin REST API."""

    keyword = "bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization: expected 'Bearer <token>'.")
        token = api_token_authenticate(secret=parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Authorization: unknown, revoked or expired token.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class IngestKeyAuthentication(authentication.BaseAuthentication):
    """A project's ingest key: `Authorization: Bearer`, `X-Lookout-Key`, or `?key=` for beacons.

    The key may be `public` or `public:secret` for keys that carry a secret. The request's
    `auth` is the IngestKey, so views read the project from `request.auth.project`.
    """

    def authenticate(self, request):
        raw = self._raw_key(request)
        if raw is None:
            raise exceptions.NotAuthenticated(
                "key: send the project's ingest key as 'Authorization: Bearer', X-Lookout-Key or ?key=."
            )
        public, _, secret = raw.partition(":")
        key = ingest_key_authenticate(public_key=public.strip(), secret=secret or None)
        if key is None:
            raise exceptions.AuthenticationFailed("key: unknown or revoked ingest key.")
        return None, key

    @staticmethod
    def _raw_key(request) -> str | None:
        header = authentication.get_authorization_header(request).split()
        if len(header) == 2 and header[0].lower() == b"bearer":
            return header[1].decode(errors="replace")
        return request.headers.get("X-Lookout-Key") or request.query_params.get("key")

    def authenticate_header(self, request):
        return 'Bearer realm="ingest"'
