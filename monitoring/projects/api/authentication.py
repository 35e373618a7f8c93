from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from monitoring.common.authentication import CredentialAuthentication
from monitoring.models import IngestKey
from monitoring.projects.services.api_tokens import api_token_authenticate
from monitoring.projects.services.ingest_keys import ingest_key_authenticate


class ApiTokenAuthentication(CredentialAuthentication):
    """`Authorization: Bearer lkt_…` for the admin REST API."""

    realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        secret = self.presented(request)
        if secret is None:
            return None  # not ours: the session authentication after us may know the request
        token = api_token_authenticate(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Authorization: unknown, revoked or expired token.")
        return token.user, token


class IngestKeyAuthentication(CredentialAuthentication):
    """A project's ingest key: `Authorization: Bearer`, `X-Lookout-Key`, or `?key=` for beacons.

    The key may be `public` or `public:secret` for keys that carry a secret. The request's
    `auth` is the IngestKey, so views read the project from `request.auth.project`.
    """

    field = "key"
    realm = "ingest"
    header = "X-Lookout-Key"
    query_param = "key"

    def authenticate(self, request: Request) -> tuple[None, IngestKey]:
        raw = self.presented(request)
        if raw is None:
            raise exceptions.NotAuthenticated(
                "key: send the project's ingest key as 'Authorization: Bearer', X-Lookout-Key or ?key=."
            )
        public, _, secret = raw.partition(":")
        key = ingest_key_authenticate(public_key=public.strip(), secret=secret or None)
        if key is None:
            raise exceptions.AuthenticationFailed("key: unknown or revoked ingest key.")
        return None, key
