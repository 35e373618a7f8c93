"""The real sentry-cli (npm @sentry/cli, its linux binary from npm), unchanged, against the
portal on a live server: releases, commits and deploys.

@sentry/cli (and esbuild, for the bundles) are installed by the test itself into
var/e2e-npm (kept between runs); the test is skipped with the reason when node or npm is
missing (LOOKOUT_REQUIRE_NODE=1 makes that a failure)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from monitoring.models import Deploy, Release, ReleaseCommit
from tests.factories import ProjectFactory, make_api_token

SENTRY_CLI = "3.8.0"
ESBUILD = "0.28.2"
SENTRY_NODE = "11.12.0"
PACKAGES = (f"@sentry/cli@{SENTRY_CLI}", f"esbuild@{ESBUILD}", f"@sentry/node@{SENTRY_NODE}")
CACHE = Path(__file__).resolve().parents[2] / "var" / "e2e-npm" / f"sentry-cli-{SENTRY_CLI}"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def npm_bin() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed to run sentry-cli from npm (apt-get install nodejs npm)"
        if os.environ.get("LOOKOUT_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    modules = CACHE / "node_modules"
    if not (modules / ".bin" / "sentry-cli").exists() or not (modules / ".bin" / "esbuild").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                f"@sentry/cli@{SENTRY_CLI}",
                f"esbuild@{ESBUILD}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return modules / ".bin"


@pytest.fixture
def cli(npm_bin, live_server, tmp_path):
    """sentry-cli with a write token for the portal, run in a git checkout of its own."""
    ProjectFactory(slug="shop", name="Shop")
    token = make_api_token(scope="write").secret
    checkout = tmp_path / "app"
    checkout.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SENTRY_URL": live_server.url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": "lookout",
        "SENTRY_PROJECT": "shop",
        "SENTRY_DISABLE_UPDATE_CHECK": "true",
        "NODE_PATH": str(npm_bin.parent),
        "GIT_AUTHOR_NAME": "Ann",
        "GIT_AUTHOR_EMAIL": "ann@example.com",
        "GIT_COMMITTER_NAME": "Ann",
        "GIT_COMMITTER_EMAIL": "ann@example.com",
    }

    def run(*args: str, program: str = "sentry-cli") -> str:
        command = [program, *args] if program in ("git", "node") else [str(npm_bin / program), *args]
        done = subprocess.run(
            command,
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout + done.stderr

    run.checkout = checkout  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    return run


def test_releases_new_set_commits_finalize_and_deploys_new(cli):
    cli("init", "-q", "-b", "main", program="git")
    for n, message in enumerate(["Add cart", "Fix checkout total"]):
        (cli.checkout / "app.js").write_text(f"console.log({n});\n")
        cli("add", "app.js", program="git")
        cli("commit", "-q", "-m", message, program="git")

    assert "Created release shop@2.0.0" in cli("releases", "new", "shop@2.0.0")
    assert "Success! Set commits for release shop@2.0.0" in cli("releases", "set-commits", "shop@2.0.0", "--local")
    assert "Finalized release shop@2.0.0" in cli("releases", "finalize", "shop@2.0.0")
    assert "Created new deploy" in cli("deploys", "new", "-r", "shop@2.0.0", "-e", "production", "-n", "blue")
    info = cli("releases", "info", "shop@2.0.0")
    assert "shop@2.0.0" in info

    release = Release.objects.get(project__slug="shop", version="shop@2.0.0")
    assert release.date_released is not None
    commits = list(ReleaseCommit.objects.filter(release=release))
    assert [c.message.strip() for c in commits] == ["Fix checkout total", "Add cart"]
    assert commits[0].author_email == "ann@example.com"
    deploy = Deploy.objects.get(release=release)
    assert (deploy.environment, deploy.name) == ("production", "blue")
    assert "blue" in cli("deploys", "list", "-r", "shop@2.0.0")

