from django.core.management.base import CommandError

from backups.errors import BackupError
from backups.models import FailureKind, Run
from backups.services.restore import run_restore
from monitoring.management.base import LookoutCommand


class Command(LookoutCommand):
    help = (
        "Restore a backup run into the database whose URL is in an environment variable. "
        "The identity comes from BACKUPS_AGE_IDENTITY, BACKUPS_IDENTITY_FILE or --identity-file."
    )

    def add_arguments(self, parser):
        parser.add_argument("run", help="The run's id (see `backup list`).")
        parser.add_argument("--to", required=True, metavar="ENV_VAR", help="Variable holding the target's URL.")
        parser.add_argument("--force", action="store_true", help="Restore over a target that is not empty.")
        parser.add_argument("--identity-file", help="A file holding the age identity (AGE-SECRET-KEY-…).")

    def handle(self, *args, run, to, force, identity_file, **options):
        if not run.isdigit():
            raise self.bad_argument(f"run: {run!r} is not a run id (see `backup list`)")
        found = Run.objects.select_related("plan").filter(pk=int(run)).first()
        if found is None:
            raise self.bad_argument(f"run: no run {run}")
        identity = None
        if identity_file:
            try:
                with open(identity_file) as file:
                    identity = file.read()
            except OSError as exc:
                raise self.bad_argument(f"--identity-file: cannot read {identity_file}: {exc.strerror}") from exc
        try:
            message = run_restore(run=found, target_env=to, force=force, identity_text=identity)
        except BackupError as exc:
            if exc.kind == FailureKind.CONFIG:
                raise self.bad_argument(str(exc)) from exc
            untouched = exc.kind in (FailureKind.CHECKSUM, FailureKind.DECRYPT)
            raise CommandError(
                f"restore failed: {exc}" + ("; nothing was written to the target" if untouched else ""), returncode=1
            ) from exc
        self.stdout.write(message)
