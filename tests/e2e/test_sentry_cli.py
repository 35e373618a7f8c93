"""The real sentry-cli (npm @sentry/cli, its linux binary from npm), unchanged, against the
portal on a live server: releases, commits and deploys; then source maps of an app built
by esbuild, injected with debug ids and uploaded by sentry-cli, resolve a real
@sentry/browser error in Chromium to the original file, line and function, and the
feedback sent with the SDK's feedback API shows on its issue.

@sentry/cli, esbuild and @sentry/browser are installed by the test itself into
var/e2e-npm (kept between runs); the tests are skipped with the reason when node or npm
is missing (LOOKOUT_REQUIRE_NODE=1 makes that a failure), and the browser test when
Chromium is (LOOKOUT_REQUIRE_BROWSER=1)."""

import functools
import hashlib
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitoring.errors.attachment_selectors import issue_feedback
from monitoring.errors.services.user_reports import error_user_reports_link
from monitoring.models import ArtifactBundle, ArtifactBundleFile, Deploy, ErrorEvent, Project, Release, ReleaseCommit
from tests.e2e.sentry_js import NPM_CACHE, npm_modules
from tests.factories import ProjectFactory, make_api_token, make_ingest_key
from tests.monitoring.errors.sourcemap_support import MINIFIED, app_map, minified_frames
from tests.monitoring.errors.test_sourcemaps import APP_URL, EXPECTED, resolved, send_error

SENTRY_CLI = "3.8.0"
# The last sentry-cli with legacy release files (`releases files … upload-sourcemaps`); 3.x dropped them.
SENTRY_CLI_2 = "2.58.6"
ESBUILD = "0.28.2"
SENTRY_BROWSER = "10.78.0"
PACKAGES = (f"@sentry/cli@{SENTRY_CLI}", f"esbuild@{ESBUILD}", f"@sentry/browser@{SENTRY_BROWSER}")
CACHE = NPM_CACHE / f"sentry-cli-{SENTRY_CLI}"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def npm_bin() -> Path:
    installed = (".bin/sentry-cli", ".bin/esbuild", "@sentry/browser")
    return npm_modules(CACHE.name, PACKAGES, installed) / ".bin"


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
        "NODE_PATH": str(npm_bin.parent),  # esbuild finds @sentry/browser there
        "GIT_AUTHOR_NAME": "Ann",
        "GIT_AUTHOR_EMAIL": "ann@example.com",
        "GIT_COMMITTER_NAME": "Ann",
        "GIT_COMMITTER_EMAIL": "ann@example.com",
    }

    def run(*args: str, program: str = "sentry-cli") -> str:
        command = [program, *args] if program == "git" else [str(npm_bin / program), *args]
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

    run.checkout = checkout
    run.env = env
    return run


@pytest.fixture(scope="module")
def legacy_cli_bin(npm_bin) -> Path:
    """sentry-cli 2, installed beside the current one."""
    cache = CACHE.parent / f"sentry-cli-{SENTRY_CLI_2}"
    program = cache / "node_modules" / ".bin" / "sentry-cli"
    if not program.exists():
        cache.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", f"@sentry/cli@{SENTRY_CLI_2}"]
        subprocess.run(npm, check=True, capture_output=True, timeout=300)
    return program


def test_legacy_release_files_from_sentry_cli_2_resolve_the_releases_frames(cli, legacy_cli_bin, client):
    dist = cli.checkout / "dist"
    dist.mkdir()
    (dist / "app.min.js").write_text(MINIFIED + "\n//# sourceMappingURL=app.min.js.map\n")
    (dist / "app.min.js.map").write_bytes(app_map())
    assert "Created release shop@2.1.0" in cli("releases", "new", "shop@2.1.0")

    def legacy(*args: str) -> str:
        done = subprocess.run(
            [str(legacy_cli_bin), *args], cwd=cli.checkout, env=cli.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout + done.stderr

    # `releases files … upload` posts one file per request (upload-sourcemaps chunk-uploads an
    # artifact bundle instead, as the portal offers release_files as Sentry does).
    for name in ("app.min.js", "app.min.js.map"):
        out = legacy("releases", "files", "shop@2.1.0", "upload", f"dist/{name}", f"~/static/{name}")
        checksum = hashlib.sha1((dist / name).read_bytes()).hexdigest()  # noqa: S324 (sentry-cli's checksum)
        assert f"A {checksum}" in out, out  # A: added
    assert ArtifactBundleFile.objects.filter(bundle__release="shop@2.1.0").count() == 2

    key = make_ingest_key(project=Project.objects.get(slug="shop")).key
    event = send_error(client, key, minified_frames(APP_URL), release="shop@2.1.0")
    assert resolved(event) == EXPECTED


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


CART = """\
// The shop's cart: a failing stock check, two calls deep.
export function reserveStock(sku) {
  const left = 0;
  if (left < 1) {
    throw new Error(`no stock for ${sku}`);
  }
}

export function checkout(items) {
  for (const item of items) {
    reserveStock(item);
  }
}
"""
MAIN = """\
import * as Sentry from "@sentry/browser";
import { checkout } from "./cart.js";

Sentry.init({ dsn: window.DSN, release: "shop@3.0.0", defaultIntegrations: false });
window.buy = () => {
  try {
    checkout(["sku-1"]);
  } catch (error) {
    const eventId = Sentry.captureException(error);
    Sentry.captureFeedback({ message: "The cart emptied itself", name: "Ann", associatedEventId: eventId });
  }
  return Sentry.flush(5000);
};
"""


@pytest.fixture
def static_site(tmp_path):
    """The built app served over HTTP, as a CDN would serve it."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_sourcemaps_inject_and_upload_then_a_browser_error_shows_the_original_source(
    cli, live_server, static_site, browser_page
):
    src = cli.checkout / "src"
    src.mkdir()
    (src / "cart.js").write_text(CART)
    (src / "main.js").write_text(MAIN)
    cli("src/main.js", "--bundle", "--minify", "--sourcemap", "--outfile=dist/app.min.js", program="esbuild")
    assert "reserveStock" not in (cli.checkout / "dist" / "app.min.js").read_text()  # really minified
    cli("sourcemaps", "inject", "dist")
    uploaded = cli("sourcemaps", "upload", "--release", "shop@3.0.0", "dist")
    assert "File processing complete" in uploaded, uploaded
    bundle = ArtifactBundle.objects.get(project__slug="shop")
    assert bundle.release == "shop@3.0.0"
    assert sorted(bundle.files.values_list("type", flat=True)) == ["minified_source", "source_map"]

    site, site_url = static_site
    shutil.copy(cli.checkout / "dist" / "app.min.js", site / "app.min.js")  # the map stays private
    key = make_ingest_key(project=bundle.project).key
    dsn = f"{live_server.url.replace('://', f'://{key.public_key}@')}/{key.project_id}"
    (site / "index.html").write_text(f'<script>window.DSN = "{dsn}";</script><script src="app.min.js"></script>')
    browser_page.goto(f"{site_url}/index.html")
    browser_page.evaluate("() => window.buy()")

    event = ErrorEvent.objects.get(project=bundle.project)
    frames = event.payload["exception"]["values"][0]["stacktrace"]["frames"]
    app = [(f["filename"], f["function"]) for f in frames if f["filename"].startswith("src/")]
    assert app[-2:] == [("src/cart.js", "checkout"), ("src/cart.js", "reserveStock")], frames
    top = frames[-1]
    assert top["lineno"] == 5 and top["context_line"].strip() == "throw new Error(`no stock for ${sku}`);"
    assert top["in_app"] is True
    assert event.issue.culprit == "src/cart.js in reserveStock"
    # The feedback API's report shows on the issue; it may arrive before its event, and
    # the beat tick then links it (error_user_reports_link).
    error_user_reports_link()
    assert [(f.name, f.comments) for f in issue_feedback(event.issue)] == [("Ann", "The cart emptied itself")]
