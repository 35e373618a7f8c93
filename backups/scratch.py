"""Load a configuration backup or a portal data export into a scratch portal, and count.

Run by verification as `python -m backups.scratch config|dumpdata FILE SEED` in a process of
its own whose DATABASE_URL is a new SQLite database (in memory, or a file in verification's
temporary folder for an export, which may be larger than memory): nothing it writes outlives
verification, and the live portal's database is never touched. The scratch portal's tables come from the models
(no migrations: replaying every migration takes ten times as long and proves nothing about
the backup). For a configuration, SEED is a JSON file of the projects and usernames the live
portal has, because a configuration names them and does not hold them.

It prints one JSON object: {"found": {section or model: count}} of what was really written
to the scratch database, or {"error": why} when the load refused the file (all or nothing).
"""

import json
import sys
from pathlib import Path


class _NoMigrations(dict):
    """MIGRATION_MODULES that says every app has none: `migrate --run-syncdb` builds from models."""

    def __contains__(self, app_label: object) -> bool:
        return True

    def __getitem__(self, app_label: str) -> None:
        return None


def _scratch_schema() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # Never the live portal: only a SQLite database with nothing in it yet.
    if connection.vendor != "sqlite" or connection.introspection.table_names():
        raise SystemExit("backups.scratch loads only into a new, empty SQLite database")
    settings.MIGRATION_MODULES = _NoMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def _seed(seed: dict) -> None:
    from django.contrib.auth import get_user_model

    from monitoring.projects.models import Project

    Project.objects.bulk_create(Project(slug=p["slug"], name=p["name"]) for p in seed.get("projects", []))
    User = get_user_model()
    User.objects.bulk_create(User(**{User.USERNAME_FIELD: name}) for name in seed.get("usernames", []))


def _config(path: Path) -> dict:
    from backups.services.configuration import ConfigImportError, import_config

    try:
        summary = import_config(path.read_text(encoding="utf-8"))
    except ConfigImportError as exc:
        return {"error": str(exc)}
    found = {name: summary.count("created", name) for name in summary.sections}
    return {"found": found}


def _dumpdata(path: Path) -> dict:
    from django.apps import apps
    from django.core.management import call_command

    try:
        call_command("loaddata", str(path), verbosity=0)
    except Exception as exc:  # loaddata passes on whatever the parser or the database raised
        return {"error": f"loaddata refused it: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}"}
    labels = {obj["model"] for obj in json.loads(path.read_text(encoding="utf-8"))}
    return {"found": {label: apps.get_model(label).objects.count() for label in sorted(labels)}}


def main(argv: list[str]) -> int:
    import django

    kind, file, seed_file = argv
    django.setup()
    _scratch_schema()
    if kind == "config":
        _seed(json.loads(Path(seed_file).read_text(encoding="utf-8")))
        outcome = _config(Path(file))
    else:  # the export holds the projects and users itself
        outcome = _dumpdata(Path(file))
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
