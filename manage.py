#!/usr/bin/env python3
"""Lookout's command line: Django's manage.py that also prepares its own environment.

A newcomer has only python3. When this file runs outside a virtualenv, it creates `.venv`
next to it, installs the locked dependencies into it, and runs again from there; later runs
reuse `.venv` and reinstall only when the lock changed. The portal needs only
`requirements.lock`; `test` (or LOOKOUT_DEV=1, for linters) also needs the test and type-check
tools in `requirements-dev.lock`, which pins the portal's packages to the same versions, so
`start` on a fresh clone doesn't wait for them. Inside a virtualenv you made yourself, it uses
that one as it is.

`python3 manage.py test [pytest args]` runs the test suite with pytest.
"""

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
# Which lock files .venv holds, by digest: {"requirements.lock": "<sha256>", ...}.
STAMP = VENV / ".lookout-locks.json"


def _in_a_virtualenv() -> bool:
    return sys.prefix != sys.base_prefix


def _digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def _installed() -> dict[str, str]:
    try:
        return json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}


def _wanted_lock() -> Path:
    wants_dev = sys.argv[1:2] == ["test"] or os.environ.get("LOOKOUT_DEV") == "1"
    return DEV_LOCK if wants_dev else LOCK


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _prepare_venv() -> None:
    if not _venv_python().exists():
        print(f"lookout: creating {VENV.name}/ (first run only)", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except subprocess.CalledProcessError:
            sys.exit(
                "lookout: python3 could not create a virtualenv with pip. On Debian or Ubuntu, "
                "install python3-venv (apt-get install python3-venv) and run again."
            )
    lock = _wanted_lock()
    installed = _installed()
    if installed.get(lock.name) == _digest(lock) and installed.get(LOCK.name) == _digest(LOCK):
        return
    what = "the test tools" if lock == DEV_LOCK else "the portal's locked dependencies"
    print(f"lookout: installing {what} into .venv ({lock.name}; about a minute)", flush=True)
    pip = [str(_venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--upgrade", "--quiet", "pip"], check=True)
    subprocess.run([*pip, "install", "--progress-bar", "on", "-r", str(lock)], check=True)
    # The dev lock pins every runtime package to the runtime lock's version, so installing it
    # installs the runtime lock too; a runtime-only install leaves the dev tools unproven.
    now = {LOCK.name: _digest(LOCK)}
    if lock == DEV_LOCK:
        now[DEV_LOCK.name] = _digest(DEV_LOCK)
    STAMP.write_text(json.dumps(now))


def _bootstrap() -> None:
    """Re-run this command under .venv's python unless already inside a virtualenv."""
    if _in_a_virtualenv() or os.environ.get("LOOKOUT_NO_BOOTSTRAP") == "1":
        return
    _prepare_venv()
    python = str(_venv_python())
    os.execv(python, [python, str(ROOT / "manage.py"), *sys.argv[1:]])


def main() -> None:
    _bootstrap()
    os.chdir(ROOT)
    if sys.argv[1:2] == ["test"]:
        # pytest is the runner; everything after "test" is passed to it unchanged.
        os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[2:]])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
