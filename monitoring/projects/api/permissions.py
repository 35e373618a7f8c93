from rest_framework import permissions

from monitoring.models import ApiToken, IngestKey
from monitoring.projects.api.scoping import token_projects

# What each method needs on the view's model, as Django's admin asks it.
_VERBS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}
# Views without a model of their own (the Sentry release API, metric queries): reading is
# any role's, writing a project's data is a manager's.
FALLBACK_READ, FALLBACK_WRITE = "monitoring.view_project", "monitoring.change_project"


def required_permission(request, view) -> str:
    """The one Django permission this request needs: the verb of its method on the view's model.

    An action that changes an existing object (POST …/pause) is a change, not an add; an
    action that only reads (GET …/results) is a view.
    """
    model = _model_of(view)
    if model is None:
        return FALLBACK_READ if request.method in permissions.SAFE_METHODS else FALLBACK_WRITE
    verb = _VERBS.get(request.method, "change")
    if verb == "add" and getattr(view, "detail", False):
        verb = "change"
    return f"{model._meta.app_label}.{verb}_{model._meta.model_name}"


def _model_of(view):
    queryset = getattr(view, "queryset", None)
    return queryset.model if queryset is not None else None


class TokenScope(permissions.BasePermission):
    """Users act by their role's Django permissions, in the admin and here alike; an API token
    acts as its user, within its scope: a read token never writes, whatever its user may do,
    and a project-limited token reaches only views that narrow their objects to its projects
    (see scoping)."""

    message = "Authorization: this token's scope is read; writing needs a write-scoped token."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        writing = request.method not in permissions.SAFE_METHODS
        if writing and isinstance(request.auth, ApiToken) and not request.auth.allows_writes:
            return False
        limited = token_projects(request)
        if limited is not None and not getattr(view, "scopes_by_project", False):
            self.message = (
                f"Authorization: this token is limited to projects {', '.join(map(str, sorted(limited)))}; "
                "this endpoint covers every project, so it needs a token that is not limited."
            )
            return False
        needed = required_permission(request, view)
        if not user.has_perm(needed):
            # The message names what is missing, so the token's owner knows which role to ask for.
            self.message = f"Authorization: {user.get_username()} lacks the permission {needed} (see the roles)."
            return False
        return True


class HasIngestKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, IngestKey)
