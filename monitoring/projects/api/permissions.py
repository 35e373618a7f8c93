from rest_framework import permissions

from monitoring.models import ApiToken, IngestKey


class TokenScope(permissions.BasePermission):
    """Signed-in users and API tokens may read; writing needs a write-scoped token or a session."""

    message = "Authorization: this token's scope is read; writing needs a write-scoped token."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return not isinstance(request.auth, ApiToken) or request.auth.allows_writes


class HasIngestKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, IngestKey)
