"""The browser script in a real Chromium: a page on another origin loads it, and its
Web Vitals arrive at the portal in a beacon when the page is left."""

import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitoring.models import MetricPoint
from tests.factories import ProjectFactory, make_ingest_key

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script async src="{portal}/static/lookout/vitals.js" data-key="{key}" data-route="/products/:id"></script>
</head><body>
<h1 id="hero">A headline big enough to be the largest contentful paint</h1>
<p>Some text.</p>
<script>
  // Push the page down after it painted: a layout shift for CLS.
  setTimeout(function () {{
    var banner = document.createElement("div");
    banner.style.height = "200px";
    banner.textContent = "Late banner";
    document.body.insertBefore(banner, document.body.firstChild);
  }}, 300);
</script>
</body></html>
"""


@pytest.fixture
def shop(tmp_path):
    """A site of its own on another port, so the beacon is a cross-origin request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_vitals_from_a_real_page_arrive(live_server, shop, browser_page):
    # shop before browser_page: the browser closes before the page's server stops.
    root, origin = shop
    project = ProjectFactory(telemetry_allowed_origins=origin)
    key = make_ingest_key(project).key.public_key
    (root / "product.html").write_text(PAGE.format(portal=live_server.url, key=key))
    page = browser_page

    page.goto(f"{origin}/product.html")
    page.wait_for_function("window.webVitals !== undefined")
    page.get_by_text("Late banner").wait_for()
    # Layout shifts are observed a frame after they happen; two frames to be sure.
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.goto("about:blank")  # the page is hidden: the script sends its beacon

    names = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not {"vitals.LCP", "vitals.FCP", "vitals.TTFB", "vitals.CLS"} <= names:
        names = set(MetricPoint.objects.filter(series__project=project).values_list("series__name", flat=True))
        time.sleep(0.2)  # polling a real browser's delivery, not waiting out a timer

    assert {"vitals.LCP", "vitals.FCP", "vitals.TTFB", "vitals.CLS"} <= names
    points = MetricPoint.objects.filter(series__project=project).select_related("series")
    assert {p.series.tags["route"] for p in points} == {"/products/:id"}
    assert {p.series.tags["device"] for p in points} == {"desktop"}
    cls = points.get(series__name="vitals.CLS").value
    assert cls > 0
    assert 0 < points.get(series__name="vitals.LCP").value < 15_000
