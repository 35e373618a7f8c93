import sys
from pathlib import Path

from monitoring.management.base import LookoutCommand
from monitoring.uptime.services.config_as_code import FORMATS, TargetImportError, config_parse, targets_import


class Command(LookoutCommand):
    help = "Create or update targets from a JSON or YAML file (or - for stdin); any error changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the file, or - to read standard input.")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file's extension, else yaml.")

    def handle(self, *args, file, format, **options):
        if file == "-":
            text, fmt = sys.stdin.read(), format or "yaml"
        else:
            path = Path(file)
            if not path.is_file():
                raise self.bad_argument(f"file: {file} does not exist")
            text, fmt = path.read_text(), format or ("json" if path.suffix == ".json" else "yaml")
        try:
            report = targets_import(items=config_parse(text, fmt=fmt))
        except TargetImportError as exc:
            raise self.bad_argument("\n".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())) from exc
        self.stdout.write(f"{report.created} created, {report.updated} updated")
