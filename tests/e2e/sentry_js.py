"""npm packages for the JavaScript e2e tests, installed once into var/e2e-npm and kept
between runs. Without node and npm the tests are skipped with the reason, or fail when
LOOKOUT_REQUIRE_NODE=1 (CI, where skipping would hide a broken upload)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NPM_CACHE = Path(__file__).resolve().parents[2] / "var" / "e2e-npm"


def npm_modules(name: str, packages: tuple[str, ...], installed: tuple[str, ...]) -> Path:
    """node_modules of var/e2e-npm/<name> holding the packages; installed are paths inside
    it that say the install is complete (an interrupted one is run again)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed to run the Sentry JavaScript tools from npm (apt-get install nodejs npm)"
        if os.environ.get("LOOKOUT_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    cache = NPM_CACHE / name
    modules = cache / "node_modules"
    if not all((modules / path).exists() for path in installed):
        cache.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", *packages]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
    return modules
