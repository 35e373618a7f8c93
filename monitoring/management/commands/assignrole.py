from django.contrib.auth import get_user_model

from monitoring.management.base import LookoutCommand
from monitoring.projects.roles import ROLES, role_assign, roles_sync


class Command(LookoutCommand):
    help = (
        "Give a user one of the roles viewer, responder, manager or admin (and access to the admin). "
        "With --sync only, write the four role groups from their definitions."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("role", nargs="?", choices=ROLES)
        parser.add_argument("--sync", action="store_true", help="Only create or update the role groups.")

    def handle(self, *args, username, role, sync, **options):
        if sync and username is None:
            groups = roles_sync()
            self.stdout.write(", ".join(f"{name}: {g.permissions.count()} permissions" for name, g in groups.items()))
            return
        if username is None or role is None:
            raise self.bad_argument("username and role: name a user and one of " + ", ".join(ROLES))
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise self.bad_argument(f"username: no user {username!r}") from None
        role_assign(user=user, role=role)
        self.stdout.write(f"{username} is now {role}")
