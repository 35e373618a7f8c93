import sys
from pathlib import Path

from backups.services.configuration import ConfigImportError, import_config
from monitoring.management.base import LookoutCommand


class Command(LookoutCommand):
    help = (
        "Create or update the configuration in a YAML file from exportconfig (or - for standard input), "
        "matched by name; all or nothing: one bad item changes nothing and is named with its field. "
        "--prune also deletes what the file's sections leave out. "
        "--dry-run prints what would change (and go) and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the YAML file, or - to read standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Check and show the changes; write nothing.")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Also delete the items of each section in the file that the file does not name "
            "(sections the file leaves out are left alone). All or nothing, like the import.",
        )

    def handle(self, *args, file, dry_run, prune, **options):
        if file == "-":
            text = sys.stdin.read()
        else:
            path = Path(file)
            if not path.is_file():
                raise self.bad_argument(f"file: {file} does not exist")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise self.bad_argument(f"file: {file} cannot be read as UTF-8 text: {exc}") from exc
        try:
            summary = import_config(text, dry_run=dry_run, prune=prune)
        except ConfigImportError as exc:
            raise self.bad_argument(str(exc)) from exc
        self.stdout.write("\n".join(summary.lines()))
