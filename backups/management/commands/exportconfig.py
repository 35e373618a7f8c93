from pathlib import Path

from backups.services.configuration import export_config
from monitoring.management.base import LookoutCommand
from monitoring.models import Project


class Command(LookoutCommand):
    help = (
        "Write the portal's configuration (targets, heartbeats, rules, channels, escalation policies, "
        "on-call schedules, silences, maintenance windows) as YAML that importconfig takes back. "
        "Secrets stay out: channels and targets name environment variables."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")
        parser.add_argument(
            "--project", help="Only this project's targets, rules and windows, with the channels and policies they use."
        )

    def handle(self, *args, output, project, **options):
        if project is not None and not Project.objects.filter(slug=project).exists():
            raise self.bad_argument(f"--project: no project with slug {project!r}")
        if output is not None and not Path(output).parent.is_dir():
            raise self.bad_argument(f"--output: the folder {Path(output).parent} does not exist")
        text = export_config(project)
        if output is None:
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text)
