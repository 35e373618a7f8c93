import json

from django.contrib.auth import get_user_model

from monitoring.management.base import LookoutCommand
from monitoring.models import ApiToken
from monitoring.projects.services.api_tokens import api_token_create


class Command(LookoutCommand):
    help = "Create an API bearer token for a user and print it. It is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, username, scope, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise self.bad_argument(f"username: no user {username!r}") from None
        created = api_token_create(user=user, scope=scope, name=name)
        if options["json"]:
            self.stdout.write(json.dumps({"token": created.secret, "scope": scope, "user": username}))
        else:
            self.stdout.write(created.secret)
