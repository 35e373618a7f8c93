"""Backup runs: start one (one per plan at a time, enforced by the database), stream it
through the pipeline with progress, and end it as succeeded or failed.

Protocol. `run_start` inserts a `running` row; the partial unique index on running runs
makes a second start for the same plan fail, whoever tries. The run records its worker
(host:pid) and a heartbeat as bytes flow. It ends one of three ways:
- the pipeline finished and the storage committed → succeeded, with sizes, sha256 and
  the row counts the connector took in the dump's own snapshot;
- anything raised → the storage writer is aborted (no partial object) and the run failed,
  with a FailureKind and a one-line reason (a removed variable reads "source_env: the
  environment variable APP_DATABASE_URL is not set", never a traceback);
- the worker died → `runs_reap` finds the running row whose process is gone (same host) or
  whose heartbeat is stale, fails it as worker_lost and removes the partial object.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backups.connectors import connector_for
from backups.errors import BackupError
from backups.models import FailureKind, Kind, Plan, Run, Status, Trigger
from backups.pg import first_line
from backups.services.pipeline import fingerprint, pipe_out, recipients_parse
from backups.storage import storage_for

logger = logging.getLogger(__name__)


class RunInProgress(BackupError):
    def __init__(self, plan: Plan):
        super().__init__(f"plan {plan.name} already has a backup running", kind=FailureKind.OTHER)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def storage_key(run: Run, extension: str) -> str:
    stamp = run.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{run.plan.name}/{run.kind}/{run.plan.name}-{run.kind}-{stamp}-{run.pk}.{extension}.zst.age"


def run_start(*, plan: Plan, kind: str, trigger: str = Trigger.SCHEDULE, now: datetime | None = None) -> Run:
    try:
        with transaction.atomic():
            return Run.objects.create(
                plan=plan,
                kind=kind,
                format="",
                trigger=trigger,
                storage=plan.storage,
                started_at=now or timezone.now(),
                heartbeat_at=now or timezone.now(),
                worker=worker_name(),
                recipient_fingerprints=[fingerprint(k) for k in plan.recipient_list()],
            )
    except IntegrityError as exc:
        raise RunInProgress(plan) from exc


def _progress(run: Run):
    def report(raw_bytes: int) -> None:
        Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(raw_bytes=raw_bytes, heartbeat_at=timezone.now())

    return report


def run_execute(*, run: Run) -> Run:
    """Stream the run's kind of its plan's source into storage; always ends the run."""
    plan = run.plan
    writer = None
    storage = None
    try:
        recipients = plan.recipient_list()
        recipients_parse(recipients)  # a bad key fails here, before the source is touched
        storage = storage_for(plan, run.storage)
        with connector_for(plan).dump(run.kind) as dump:
            run.storage_key = storage_key(run, dump.extension)
            run.format = dump.format
            run.source_version = dump.source_version
            Run.objects.filter(pk=run.pk).update(
                storage_key=run.storage_key, format=run.format, source_version=run.source_version
            )
            writer = storage.open_writer(run.storage_key)
            piped = pipe_out(source=dump.reader, writer=writer, recipients=recipients, progress=_progress(run))
        # Leaving the block waited for the source (pg_dump's exit status, the row counts).
        writer.commit()
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        _fail(run, exc)
        if not isinstance(exc, Exception):
            raise  # a worker shutting down still shuts down
        return run
    finally:
        if storage is not None:
            storage.close()
    now = timezone.now()
    run.status = Status.SUCCEEDED
    run.finished_at = now
    run.duration_seconds = (now - run.started_at).total_seconds()
    run.raw_bytes, run.stored_bytes, run.sha256 = piped.raw_bytes, piped.stored_bytes, piped.sha256
    run.row_counts = dump.row_counts
    run.expires_at = now + plan.retention()
    run.save(
        update_fields=[
            "status", "finished_at", "duration_seconds", "raw_bytes", "stored_bytes", "sha256", "row_counts",
            "expires_at",
        ]
    )  # fmt: skip
    return run


def _fail(run: Run, exc: BaseException) -> None:
    if isinstance(exc, BackupError):
        reason, kind = str(exc), exc.kind
    elif isinstance(exc, Exception):
        logger.exception("backup run %s failed", run.pk)
        reason, kind = f"{type(exc).__name__}: {first_line(exc)}", FailureKind.OTHER
    else:
        reason, kind = f"interrupted ({type(exc).__name__})", FailureKind.WORKER_LOST
    now = timezone.now()
    Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        status=Status.FAILED,
        error=reason,
        failure_kind=kind,
        finished_at=now,
        duration_seconds=(now - run.started_at).total_seconds(),
    )
    run.refresh_from_db()


def plan_kinds(plan: Plan, requested: str | None) -> list[str]:
    """The kinds a backup of `plan` makes: the plan's own, one named, or 'full' (every kind its source has)."""
    connector = connector_for(plan)
    if requested in (None, ""):
        return plan.kinds()
    if requested == "full":
        return [k for k in (Kind.DATABASE, Kind.EXPORT, Kind.CONFIG) if k in connector.kinds]
    if requested not in connector.kinds:
        raise BackupError(
            f"kind: a {plan.get_source_display()} source has no {requested} backup", kind=FailureKind.CONFIG
        )
    return [requested]


def plan_backup(*, plan: Plan, kind: str | None = None, trigger: str = Trigger.MANUAL) -> list[Run]:
    """Back up each kind in turn (one run per plan at a time); the runs, succeeded or failed."""
    runs = []
    for each in plan_kinds(plan, kind):
        runs.append(run_execute(run=run_start(plan=plan, kind=each, trigger=trigger)))
    return runs


def plan_test_connection(*, plan: Plan) -> list[str]:
    """What the source and the storage answered; BackupError at the first that did not."""
    with storage_for(plan) as storage:
        return [connector_for(plan).check(), storage.check()]


# --- dead workers --------------------------------------------------------------------------
def _process_gone(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Reaped:
    runs: int
    partials_removed: int


def runs_reap(*, now: datetime) -> Reaped:
    """Fail running runs whose worker is gone and remove what they left in storage."""
    stale = now - timedelta(seconds=settings.BACKUPS_STALE_SECONDS)
    reaped = removed = 0
    for run in Run.objects.filter(status=Status.RUNNING).select_related("plan"):
        if not (_process_gone(run.worker) or (run.heartbeat_at and run.heartbeat_at < stale)):
            continue
        last_seen = (run.heartbeat_at or run.started_at).astimezone(UTC)
        claimed = Run.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            status=Status.FAILED,
            failure_kind=FailureKind.WORKER_LOST,
            error=f"the worker {run.worker} stopped reporting (last at {last_seen:%Y-%m-%d %H:%M:%S} UTC)",
            finished_at=now,
            duration_seconds=(now - run.started_at).total_seconds(),
        )
        if not claimed:
            continue
        reaped += 1
        if run.storage_key:
            try:
                with storage_for(run.plan, run.storage) as storage:
                    removed += storage.remove_partial(run.storage_key)
            except BackupError:
                logger.warning("could not remove the partial object of run %s", run.pk, exc_info=True)
    return Reaped(runs=reaped, partials_removed=removed)


def run_delete(*, run: Run) -> None:
    """Delete one run and its stored object (the receipts stay, pointing at nothing)."""
    if run.status == Status.RUNNING:
        raise BackupError(f"run {run.pk} is still running", kind=FailureKind.OTHER)
    if run.storage_key:
        with storage_for(run.plan, run.storage) as storage:
            storage.delete(run.storage_key)
            storage.remove_partial(run.storage_key)
    run.delete()
