import json

from monitoring.management.base import LookoutCommand
from monitoring.projects.services.projects import ProjectError, project_create


class Command(LookoutCommand):
    help = "Create a project with a first ingest key, and print its id and DSN."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", default="")
        parser.add_argument(
            "--environment",
            action="append",
            dest="environments",
            help="An environment of the project (repeatable; default: production).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, name, slug, environments, **options):
        try:
            created = project_create(name=name, slug=slug, environments=tuple(environments or ["production"]))
        except ProjectError as exc:
            raise self.bad_argument(str(exc)) from exc
        project, key = created.project, created.key.key
        if options["json"]:
            self.stdout.write(
                json.dumps({"id": project.pk, "slug": project.slug, "name": project.name, "dsn": key.dsn})
            )
        else:
            self.stdout.write(f"project {project.pk} ({project.slug})\nDSN {key.dsn}")
