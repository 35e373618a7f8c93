"""Roles: four Django groups, each a fixed set of Django permissions, so every interface (the
admin, the on-call pages, the REST API and its tokens) asks one question: `user.has_perm(…)`.

  viewer     sees everything, changes nothing;
  responder  + works incidents: acknowledge, resolve, comment, snooze (alerts.change_incident,
             the permission the incident admin's actions already ask for) and error issues;
  manager    + configures what pages whom: rules, channels, schedules, escalation, silences,
             maintenance, integrations, targets and heartbeats, a project's settings;
  admin      + everything else: projects, keys, tokens, users, backups.

The groups are written from this table by `roles_sync` (the `assignrole` command runs it), so
a role edited in the admin's group page is put back to its definition on the next sync; make
a group of another name for a variation. Permissions are named as strings ("alerts.…"), never
imported: monitoring does not import alerts.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

VIEWER, RESPONDER, MANAGER, ADMIN = "viewer", "responder", "manager", "admin"
ROLES = (VIEWER, RESPONDER, MANAGER, ADMIN)
# The apps whose data the roles cover; admin also gets these in full.
APPS = ("monitoring", "alerts", "backups", "django_celery_beat")

RESPOND = ("alerts.change_incident", "monitoring.change_errorissue")
# Models a manager adds, changes and deletes.
MANAGED = {
    "alerts": (
        "alertrule",
        "channel",
        "escalationpolicy",
        "escalationstep",
        "oncallschedule",
        "oncalllayer",
        "oncalloverride",
        "silence",
        "maintenancewindow",
        "inhibitrule",
        "targetdependency",
        "integration",
    ),
    "monitoring": ("target", "heartbeat", "tag", "errorclassificationrule"),
    "backups": ("plan",),
}
MANAGE_EXTRA = ("monitoring.change_project",)


class UnknownRole(ValueError):
    pass


def _named(names: list[str]) -> Q:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def role_permissions(role: str) -> list[Permission]:
    """The permissions that make up `role` (only those whose model exists in this install)."""
    if role not in ROLES:
        raise UnknownRole(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if role == ADMIN:
        return list(Permission.objects.filter(content_type__app_label__in=(*APPS, "auth")))
    query = Q(content_type__app_label__in=APPS, codename__startswith="view_")
    if role in (RESPONDER, MANAGER):
        query |= _named(list(RESPOND))
    if role == MANAGER:
        managed = [
            f"{app}.{verb}_{model}"
            for app, models in MANAGED.items()
            for model in models
            for verb in ("add", "change", "delete")
        ]
        query |= _named([*managed, *MANAGE_EXTRA])
    return list(Permission.objects.filter(query))


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create or update the four groups to their definitions; returns them by role."""
    groups = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role))
        groups[role] = group
    return groups


@transaction.atomic
def role_assign(*, user, role: str) -> None:
    """Give `user` exactly `role` (replacing any other role) and access to the admin."""
    if role not in ROLES:
        raise UnknownRole(f"role: {role!r} is not one of {', '.join(ROLES)}")
    groups = roles_sync()
    user.groups.remove(*[g for name, g in groups.items() if name != role])
    user.groups.add(groups[role])
    if not user.is_staff:
        user.is_staff = True  # every role reads in the admin; its permissions say what else
        user.save(update_fields=["is_staff"])


def user_role(user) -> str | None:
    """The user's role, the highest one when the user is in several groups."""
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in reversed(ROLES) if role in names), None)
