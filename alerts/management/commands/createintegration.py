import json

from django.core.exceptions import ValidationError

from alerts.intake.services import integration_create
from alerts.models import Integration, Severity
from monitoring.management.base import LookoutCommand
from monitoring.models import Project


class Command(LookoutCommand):
    help = "Create an alert integration (Alertmanager webhook or events API) and print its token, shown only once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=Integration.Kind.values)
        parser.add_argument("--project", help="Slug of the project its incidents belong to.")
        parser.add_argument(
            "--severity", choices=Severity.values, default=Severity.HIGH, help="Severity of alerts that carry none."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, name, kind, project, severity, **options):
        target = None
        if project:
            target = Project.objects.filter(slug=project).first()
            if target is None:
                raise self.bad_argument(f"--project: no project {project!r}")
        try:
            created = integration_create(name=name, kind=kind, project=target, default_severity=severity)
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise self.bad_argument(f"{field}: {messages[0]}") from None
        path = "alertmanager" if kind == Integration.Kind.ALERTMANAGER else "events"
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": created.integration.pk,
                        "name": name,
                        "kind": kind,
                        "project": project,
                        "token": created.token,
                        "url": f"/api/v1/alerts/{path}",
                    }
                )
            )
        else:
            self.stdout.write(created.token)
