"""Verification and disaster-recovery drills: a backup is proven only by restoring it.

Verification of a run: fetch the stored object and check its SHA-256; decrypt and
decompress it; restore a database dump into a scratch database (created on
BACKUPS_SCRATCH_DATABASE_URL's server, or the portal's own, and always dropped; a SQLite
dump is a file in a temporary folder); compare every table's row count with the counts
taken at dump time; run pg_amcheck (or PRAGMA integrity_check); record the time from
fetch to restored as the measured recovery time. Every step lands in the receipt, and the
run keeps its newest outcome (verified_at / verification_failed_at) for lists and facts.

A drill does the same with the portal's own newest database dump, then runs the portal
itself against the scratch copy: `migrate --check` and its database health check.
"""

import json
import secrets
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import yaml
from django.conf import settings
from django.db import connections
from django.utils import timezone

from backups import pg
from backups.connectors.base import Format
from backups.connectors.sqlite import sqlite_row_counts
from backups.errors import BackupError
from backups.models import FailureKind, Kind, Plan, Run, Source, Status, Verification
from backups.pg import first_line
from backups.selectors import run_newest_success
from backups.services.pipeline import identities_load, pipe_in
from backups.services.restore import DatabaseTarget, restore_file
from backups.storage import storage_for

STDOUT_SHOWN = 2000
# Loading an export into a scratch portal is bounded well inside the task's own time limit.
SCRATCH_LOAD_SECONDS = 3600
# The health check's own 2 s budget is for a load balancer; a drill is no request path, and on
# a loaded machine a fresh connection to the restored copy can take longer than that. The
# same check (a real connection, SELECT 1), with a budget a drill can afford.
DRILL_HEALTH_SECONDS = 60
HEALTH_SCRIPT = (
    "import asyncio, datetime, sys\n"
    "from monitoring.health.datastores import DatabaseCheck\n"
    "check = DatabaseCheck()\n"
    f"check.timeout = datetime.timedelta(seconds={DRILL_HEALTH_SECONDS})\n"
    "result = asyncio.run(check.get_result())\n"
    "print(result.error or f'database: ok (within a {check.timeout.total_seconds():g} s budget)')\n"
    "sys.exit(1 if result.error else 0)\n"
)


class _Receipt:
    def __init__(self, verification: Verification):
        self.verification = verification
        self.steps: list[dict] = []
        self.made_database = False  # a PostgreSQL scratch database, dropped after the receipt
        self._last = time.monotonic()

    def mark(self) -> None:
        """Start the next step's clock now."""
        self._last = time.monotonic()

    def step(self, name: str, ok: bool, detail: str = "") -> None:
        now = time.monotonic()
        # Each step's own time, so a slow verification says which step was slow.
        self.steps.append({"name": name, "ok": ok, "detail": detail, "seconds": round(now - self._last, 3)})
        self._last = now


def scratch_server() -> pg.Conninfo:
    if settings.BACKUPS_SCRATCH_DATABASE_URL:
        return pg.conninfo_from_url(settings.BACKUPS_SCRATCH_DATABASE_URL)
    if connections["default"].vendor == "postgresql":
        return pg.conninfo_from_django(connections["default"].settings_dict)
    raise BackupError(
        "set BACKUPS_SCRATCH_DATABASE_URL to a PostgreSQL server where scratch databases may be created",
        kind=FailureKind.CONFIG,
    )


@contextmanager
def scratch_database(fmt: str, folder: Path):
    """A new empty database of the dump's vendor, dropped afterwards whatever happens."""
    if fmt == Format.SQLITE:
        yield DatabaseTarget(vendor="sqlite", path=folder / "scratch.sqlite3")
        return
    server = scratch_server()
    name = f"lookout_scratch_{secrets.token_hex(6)}"
    pg.create_database(server, name)
    try:
        yield DatabaseTarget(vendor="postgresql", conninfo={**server, "dbname": name})
    finally:
        pg.drop_database(server, name)


def _counts(target: DatabaseTarget) -> dict[str, int]:
    if target.vendor == "sqlite":
        with sqlite3.connect(str(target.path)) as conn:
            return sqlite_row_counts(conn)
    with pg.connect(target.conninfo or {}) as conn:
        return pg.table_row_counts(conn)


def _integrity(target: DatabaseTarget) -> tuple[str, bool, str]:
    """(check's name, passed, what it said); a check that is not installed passes as skipped."""
    if target.vendor == "sqlite":
        with sqlite3.connect(str(target.path)) as conn:
            answer = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check").fetchall())
        return "PRAGMA integrity_check", answer == "ok", answer
    try:
        amcheck = pg.tool("pg_amcheck")
    except BackupError:
        return "pg_amcheck", True, "skipped: pg_amcheck is not installed on this worker"
    info = target.conninfo or {}
    result = subprocess.run(
        [amcheck, "--install-missing", "--no-password", f"--database={info.get('dbname')}"],
        capture_output=True,
        text=True,
        env=pg.libpq_env(info),
        check=False,
    )
    return "pg_amcheck", result.returncode == 0, (result.stdout + result.stderr).strip() or "no corruption found"


def _integrity_outcome(outcome: tuple[str, bool, str], receipt: _Receipt) -> str:
    name, ok, answer = outcome
    if not ok:
        raise BackupError(f"{name}: {answer[:STDOUT_SHOWN]}", kind=FailureKind.INTEGRITY)
    receipt.step(name, True, answer[:STDOUT_SHOWN])
    return answer


def _compare(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    differences = []
    for table in sorted(set(expected) | set(found)):
        want, have = expected.get(table), found.get(table)
        if want != have:
            restored = "missing" if have is None else have
            dumped = "none" if want is None else want
            differences.append(f"{table}: {restored} rows restored, {dumped} dumped")
    return differences


def _check_export(path: Path, run: Run, verification: Verification, receipt: _Receipt, folder: Path) -> None:
    """An export is proven by reading it back whole; a portal export and a configuration backup
    by loading them into a scratch portal (loaddata, importconfig) and counting what landed."""
    if run.format == Format.JSONL_TAR:
        found = {}
        with tarfile.open(path) as tar:
            for member in tar:
                lines = 0
                for line in tar.extractfile(member) or []:
                    json.loads(line)
                    lines += 1
                found[member.name.removesuffix(".jsonl")] = lines
        receipt.step("JSON Lines read back", True, f"{len(found)} tables, every line parsed")
        verification.found_rows = found
        return
    if run.format == Format.CONFIG_YAML:
        with path.open("rb") as file:
            document = yaml.safe_load(file)
        in_file = {name: len(items) for name, items in document.items() if isinstance(items, list)}
        verification.found_rows = _scratch_load("config", path, folder)
        items = sum(in_file.values())
        receipt.step("importconfig into a scratch portal", True, f"{items} items in {len(in_file)} sections")
    else:
        with path.open("rb") as file:
            objects = json.load(file)
        in_file = {}
        for obj in objects:
            in_file[obj["model"]] = in_file.get(obj["model"], 0) + 1
        verification.found_rows = _scratch_load("dumpdata", path, folder)
        receipt.step("loaddata into a scratch portal", True, f"{len(objects)} objects of {len(in_file)} models")
    # A run that recorded no counts (a portal export, an older configuration backup) is held to its file.
    verification.expected_rows = run.row_counts or in_file


def _scratch_load(kind: str, path: Path, folder: Path) -> dict[str, int]:
    """What `python -m backups.scratch` loaded of the file into a new SQLite portal, by section or model."""
    import os

    seed = folder / "seed.json"
    seed.write_text(json.dumps(_portal_identities()), encoding="utf-8")
    # A configuration is small: in memory. An export may not be: a file in the temporary folder.
    database = "sqlite://:memory:" if kind == "config" else f"sqlite:///{folder / 'scratch-portal.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("SECRET_KEY", settings.SECRET_KEY)
    result = subprocess.run(
        [sys.executable, "-m", "backups.scratch", kind, str(path), str(seed)],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=SCRATCH_LOAD_SECONDS,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        output = (result.stdout + result.stderr).strip()[-STDOUT_SHOWN:]
        raise BackupError(f"the scratch portal failed: {output or result.returncode}", kind=FailureKind.RESTORE)
    outcome = json.loads(lines[-1])
    if "error" in outcome:
        command = "importconfig" if kind == "config" else "loaddata"
        raise BackupError(
            f"{command} refused it in a scratch portal: {outcome['error'][:STDOUT_SHOWN]}", kind=FailureKind.RESTORE
        )
    return outcome["found"]


def _portal_identities() -> dict:
    """The projects and usernames of this portal: a configuration names them, it does not hold them."""
    from django.contrib.auth import get_user_model

    from monitoring.projects.models import Project

    User = get_user_model()
    return {
        "projects": list(Project.objects.values("slug", "name")),
        "usernames": list(User.objects.values_list(User.USERNAME_FIELD, flat=True)),
    }


def _portal_checks(target: DatabaseTarget, receipt: _Receipt) -> None:
    """The drill: the portal's own code against the restored copy."""
    import os

    env = {**os.environ, "DATABASE_URL": target.url()}
    env.setdefault("SECRET_KEY", settings.SECRET_KEY)
    for name, command in (
        ("migrate --check", ["migrate", "--check", "--no-input"]),
        ("database health check", ["shell", "-c", HEALTH_SCRIPT]),
    ):
        result = subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *command],
            capture_output=True,
            text=True,
            env=env,
            cwd=settings.BASE_DIR,
            timeout=600,
            check=False,
        )
        output = (result.stdout + result.stderr).strip()[-STDOUT_SHOWN:]
        if result.returncode != 0:
            kind = FailureKind.MIGRATIONS if name.startswith("migrate") else FailureKind.RESTORE
            raise BackupError(f"{name} failed on the restored copy: {output or result.returncode}", kind=kind)
        receipt.step(name, True, output or "ok")


def run_verify(*, run: Run, drill: bool = False, identity_text: str | None = None) -> Verification:
    """Prove `run` by restoring it; always returns the receipt (passed or failed).

    The receipt is recorded as soon as the checks are done; the scratch database is dropped
    after that, still before returning. Dropping a restored gigabyte takes seconds (its files,
    a checkpoint) and proves nothing, so the proof does not wait for it; the drop is appended
    to the receipt as a step of its own."""
    verification = Verification.objects.create(
        plan=run.plan,
        run=run,
        run_label=str(run),
        purpose=Verification.Purpose.DRILL if drill else Verification.Purpose.VERIFY,
        started_at=timezone.now(),
        expected_rows=run.row_counts,
    )
    receipt = _Receipt(verification)
    scratch_databases = ExitStack()
    try:
        with scratch_databases:
            verification = _verify(run, verification, receipt, scratch_databases, drill=drill, identity=identity_text)
            receipt.mark()  # the drop's own time starts here
    except Exception as exc:  # the verdict stands; a database left behind is named in the receipt
        receipt.step("scratch database dropped", False, first_line(exc))
    else:
        if not receipt.made_database:
            return verification
        receipt.step("scratch database dropped", True)
    verification.steps = receipt.steps
    Verification.objects.filter(pk=verification.pk).update(steps=receipt.steps)
    return verification


def _verify(
    run: Run, verification: Verification, receipt: _Receipt, scratch_databases: ExitStack, *, drill: bool, identity
) -> Verification:
    started = time.monotonic()
    try:
        if run.status != Status.SUCCEEDED:
            raise BackupError(f"run {run.pk} did not succeed; there is nothing to verify", kind=FailureKind.OTHER)
        identities = identities_load(identity)
        with tempfile.TemporaryDirectory(prefix="lookout-verify-") as folder:
            scratch = Path(folder)
            with (
                storage_for(run.plan, run.storage) as storage,
                storage.local_path(run.storage_key, scratch=scratch) as stored,
            ):
                receipt.step("fetched", True, f"{run.storage_key} ({stored.stat().st_size} bytes)")
                plain = scratch / f"plain.{Format.EXTENSIONS.get(run.format, 'bin')}"
                pipe_in(stored=stored, expected_sha256=run.sha256, target=plain, identities=identities)
            verification.sha256_ok = True
            receipt.step("sha256", True, run.sha256)
            receipt.step("decrypted and decompressed", True, f"{plain.stat().st_size} bytes")
            if run.kind == Kind.DATABASE:
                # Dropped when run_verify's stack closes, after the receipt is saved.
                target = scratch_databases.enter_context(scratch_database(run.format, scratch))
                receipt.made_database = target.vendor == "postgresql"
                restore_file(plain, fmt=run.format, target=target, clean=False)
                verification.restore_seconds = time.monotonic() - started
                receipt.step("restored", True, f"into a scratch database in {verification.restore_seconds:.1f} s")
                # Counting and the integrity check each read every table: side by side they
                # take one scan's time on a machine with two cores.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    counting = pool.submit(_counts, target)
                    integrity = _integrity(target)
                    verification.found_rows = counting.result()
                _raise_on_differences(verification)
                receipt.step("row counts", True, f"{len(verification.found_rows)} tables match")
                verification.integrity = _integrity_outcome(integrity, receipt)
                if drill:
                    _portal_checks(target, receipt)
            else:
                _check_export(plain, run, verification, receipt, scratch)
                verification.restore_seconds = time.monotonic() - started
                _raise_on_differences(verification)
    except BackupError as exc:
        if exc.kind == FailureKind.CHECKSUM:
            verification.sha256_ok = False
        return _finish(verification, receipt, error=str(exc), kind=exc.kind)
    except Exception as exc:  # a receipt says what broke; the traceback goes to the log
        import logging

        logging.getLogger(__name__).exception("verification of run %s failed", run.pk)
        return _finish(verification, receipt, error=f"{type(exc).__name__}: {first_line(exc)}", kind=FailureKind.OTHER)
    return _finish(verification, receipt)


def _raise_on_differences(verification: Verification) -> None:
    differences = _compare(verification.expected_rows, verification.found_rows)
    if differences:
        raise BackupError("row counts differ: " + "; ".join(differences[:20]), kind=FailureKind.ROW_COUNTS)


def _finish(verification: Verification, receipt: _Receipt, *, error: str = "", kind: str = "") -> Verification:
    now = timezone.now()
    if error:
        receipt.step("failed", False, error)
    verification.status = Status.FAILED if error else Status.SUCCEEDED
    verification.error = error
    verification.failure_kind = kind
    verification.finished_at = now
    verification.steps = receipt.steps
    verification.save()
    if verification.run_id:
        if error:
            Run.objects.filter(pk=verification.run_id).update(verification_failed_at=now, verification_error=error)
        else:
            Run.objects.filter(pk=verification.run_id).update(
                verified_at=now, verification_error="", recovery_seconds=verification.restore_seconds
            )
    return verification


def plan_verify_newest(*, plan: Plan) -> list[Verification]:
    """Verify the newest successful run of each of the plan's kinds."""
    receipts = []
    for kind in plan.kinds():
        run = run_newest_success(plan, kind=kind)
        if run is not None:
            receipts.append(run_verify(run=run))
    return receipts


def portal_drill() -> list[Verification]:
    """Restore each portal plan's newest database dump and run the portal against it."""
    receipts = []
    for plan in Plan.objects.filter(source=Source.PORTAL, enabled=True):
        run = run_newest_success(plan, kind=Kind.DATABASE)
        if run is not None:
            receipts.append(run_verify(run=run, drill=True))
    return receipts
