from monitoring.management.base import LookoutCommand
from monitoring.uptime.services.config_as_code import FORMATS, config_dump, targets_export


class Command(LookoutCommand):
    help = "Print targets (all, or one project's) as JSON or YAML that importtargets takes back."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Slug of the project to export.")
        parser.add_argument("--format", choices=FORMATS, default="yaml")

    def handle(self, *args, project, format, **options):
        self.stdout.write(config_dump(targets_export(project_slug=project), fmt=format), ending="")
