"""The real Sentry esbuild plugin (npm @sentry/esbuild-plugin), unchanged, in an esbuild
build of a small app pointed at the portal with an API token: it creates the release,
injects debug ids and uploads the bundle and its source maps; then a real @sentry/browser
error in Chromium resolves to the original file, line and function.

The packages are installed by the test itself into var/e2e-npm (tests/e2e/sentry_js.py);
skipped with the reason without node and npm (LOOKOUT_REQUIRE_NODE=1 makes that a
failure), and without Chromium (LOOKOUT_REQUIRE_BROWSER=1)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from monitoring.models import ArtifactBundle, ErrorEvent, Release
from tests.e2e.sentry_js import npm_modules
from tests.e2e.test_sentry_cli import CART, ESBUILD, SENTRY_BROWSER, static_site  # noqa: F401 (a fixture)
from tests.factories import ProjectFactory, make_api_token, make_ingest_key

ESBUILD_PLUGIN = "5.4.0"
PACKAGES = (f"@sentry/esbuild-plugin@{ESBUILD_PLUGIN}", f"esbuild@{ESBUILD}", f"@sentry/browser@{SENTRY_BROWSER}")

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = """\
import * as Sentry from "@sentry/browser";
import { checkout } from "./cart.js";

Sentry.init({ dsn: window.DSN, release: "shop@4.0.0", defaultIntegrations: false });
window.buy = () => {
  try {
    checkout(["sku-1"]);
  } catch (error) {
    Sentry.captureException(error);
  }
  return Sentry.flush(5000);
};
"""
# The build as the plugin's README has it, with the portal's address and token.
BUILD = """\
import * as esbuild from "esbuild";
import { sentryEsbuildPlugin } from "@sentry/esbuild-plugin";

await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  sourcemap: true,
  outfile: "dist/app.min.js",
  plugins: [
    sentryEsbuildPlugin({
      url: process.env.PORTAL_URL,
      authToken: process.env.PORTAL_TOKEN,
      org: "lookout",
      project: "shop",
      release: { name: "shop@4.0.0" },
      telemetry: false,
      errorHandler: (error) => { throw error; },
    }),
  ],
});
"""


@pytest.fixture(scope="module")
def node_modules() -> Path:
    installed = ("@sentry/esbuild-plugin/package.json", ".bin/esbuild", "@sentry/browser/package.json")
    return npm_modules(f"sentry-esbuild-plugin-{ESBUILD_PLUGIN}", PACKAGES, installed)


@pytest.mark.browser
def test_the_esbuild_plugin_uploads_and_a_browser_error_shows_the_original_source(
    node_modules,
    live_server,
    static_site,  # noqa: F811 (the fixture imported above)
    browser_page,
    tmp_path,
):
    project = ProjectFactory(slug="shop", name="Shop")
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "node_modules").symlink_to(node_modules)  # ES modules resolve from the app's folder only
    (app / "src" / "cart.js").write_text(CART)
    (app / "src" / "main.js").write_text(MAIN)
    (app / "build.mjs").write_text(BUILD)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PORTAL_URL": live_server.url,
        "PORTAL_TOKEN": make_api_token(scope="write").secret,
        "SENTRY_DISABLE_UPDATE_CHECK": "true",
    }
    done = subprocess.run(["node", "build.mjs"], cwd=app, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (done.stdout, done.stderr)
    built = (app / "dist" / "app.min.js").read_text()
    assert "reserveStock" not in built  # really minified
    assert "_sentryDebugIds" in built  # the plugin injected the debug id

    bundle = ArtifactBundle.objects.get(project=project)
    assert sorted(bundle.files.values_list("type", flat=True)) == ["minified_source", "source_map"], done.stderr
    assert Release.objects.filter(project=project, version="shop@4.0.0").exists()

    site, site_url = static_site
    shutil.copy(app / "dist" / "app.min.js", site / "app.min.js")  # the map stays private
    key = make_ingest_key(project=project).key
    dsn = f"{live_server.url.replace('://', f'://{key.public_key}@')}/{key.project_id}"
    (site / "index.html").write_text(f'<script>window.DSN = "{dsn}";</script><script src="app.min.js"></script>')
    browser_page.goto(f"{site_url}/index.html")
    browser_page.evaluate("() => window.buy()")

    event = ErrorEvent.objects.get(project=project)
    frames = event.payload["exception"]["values"][0]["stacktrace"]["frames"]
    ours = [(f["filename"], f["function"]) for f in frames if f["filename"].startswith("src/")]
    assert ours[-2:] == [("src/cart.js", "checkout"), ("src/cart.js", "reserveStock")], frames
    top = frames[-1]
    assert top["lineno"] == 5 and top["context_line"].strip() == "throw new Error(`no stock for ${sku}`);"
    assert event.issue.culprit == "src/cart.js in reserveStock"
