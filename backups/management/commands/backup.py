from django.utils import timezone

from backups.errors import BackupError
from backups.formatting import human_bytes
from backups.models import Plan, Run, Status
from backups.services.retention import retention_apply
from backups.services.runs import plan_backup
from backups.services.verification import run_verify
from monitoring.management.base import LookoutCommand

ACTIONS = ("list", "cleanup", "verify")


class Command(LookoutCommand):
    help = (
        "Back up every enabled plan, or one (`backup PLAN [--kind database|export|config|full]`); "
        "`backup list`; `backup cleanup [--dry-run]`; `backup verify RUN`."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", nargs="*", help="PLAN, or list / cleanup / verify RUN.")
        parser.add_argument(
            "--kind", choices=["database", "export", "config", "full"], help="Default: the plan's kinds."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="cleanup: say what would be deleted, delete nothing."
        )

    def handle(self, *args, what, kind, dry_run, **options):
        action = what[0] if what else ""
        if action == "list":
            return self._list(what[1:])
        if action == "cleanup":
            self._no_more(what[1:], "cleanup")
            return self._cleanup(dry_run=dry_run)
        if action == "verify":
            return self._verify(what[1:])
        if dry_run:
            raise self.bad_argument("--dry-run: only `backup cleanup` takes it")
        return self._backup(what, kind=kind)

    def _no_more(self, rest: list[str], action: str) -> None:
        if rest:
            raise self.bad_argument(f"{action}: unexpected argument {rest[0]!r}")

    def _plans(self, names: list[str]) -> list[Plan]:
        if len(names) > 1:
            raise self.bad_argument(f"plan: name one plan, got {' '.join(names)!r}")
        if not names:
            return list(Plan.objects.filter(enabled=True))
        plan = Plan.objects.filter(name=names[0]).first()
        if plan is None:
            known = ", ".join(Plan.objects.values_list("name", flat=True)) or "none yet"
            raise self.bad_argument(f"plan: no plan named {names[0]!r} (plans: {known})")
        return [plan]

    def _backup(self, names: list[str], *, kind: str | None) -> None:
        failed = 0
        for plan in self._plans(names):
            try:
                runs = plan_backup(plan=plan, kind=kind)
            except BackupError as exc:
                raise self.bad_argument(str(exc)) from exc
            for run in runs:
                if run.status == Status.SUCCEEDED:
                    self.stdout.write(
                        f"{plan.name} {run.kind}: run {run.pk} succeeded, {human_bytes(run.stored_bytes)} "
                        f"in {run.duration_seconds:.1f} s → {run.storage_key}"
                    )
                else:
                    failed += 1
                    self.stderr.write(f"{plan.name} {run.kind}: run {run.pk} failed: {run.error}")
        if failed:
            from django.core.management.base import CommandError

            raise CommandError(f"{failed} backup(s) failed", returncode=1)

    def _list(self, rest: list[str]) -> None:
        runs = Run.objects.select_related("plan").order_by("-started_at")
        if rest:
            runs = runs.filter(plan__in=self._plans(rest))
        self.stdout.write(
            f"{'RUN':>6}  {'PLAN':<16} {'KIND':<9} {'STATUS':<10} {'STARTED (UTC)':<17} {'SIZE':>9}  VERIFIED"
        )
        for run in runs[:100]:
            verified = "yes" if run.is_verified else ("FAILED" if run.verification_failed_at else "-")
            self.stdout.write(
                f"{run.pk:>6}  {run.plan.name:<16} {run.kind:<9} {run.status:<10} "
                f"{run.started_at:%Y-%m-%d %H:%M}  {human_bytes(run.stored_bytes):>9}  {verified}"
            )

    def _cleanup(self, *, dry_run: bool) -> None:
        report = retention_apply(now=timezone.now(), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for line in report.runs:
            self.stdout.write(f"{verb} {line}")
        for line in report.orphans:
            self.stdout.write(f"{verb} orphan {line}")
        for line in report.errors:
            self.stderr.write(f"error: {line}")
        self.stdout.write(f"{verb}: {len(report.runs)} run(s), {len(report.orphans)} orphan file(s)")

    def _verify(self, rest: list[str]) -> None:
        if len(rest) != 1 or not rest[0].isdigit():
            raise self.bad_argument("run: give one run id, e.g. `backup verify 42` (see `backup list`)")
        run = Run.objects.select_related("plan").filter(pk=int(rest[0])).first()
        if run is None:
            raise self.bad_argument(f"run: no run {rest[0]}")
        receipt = run_verify(run=run)
        for step in receipt.steps:
            self.stdout.write(f"{'ok  ' if step['ok'] else 'FAIL'} {step['name']}: {step['detail']}")
        if receipt.status != Status.SUCCEEDED:
            from django.core.management.base import CommandError

            raise CommandError(f"verification of run {run.pk} failed: {receipt.error}", returncode=1)
        self.stdout.write(f"run {run.pk} verified; recovery time {receipt.restore_seconds:.1f} s")
