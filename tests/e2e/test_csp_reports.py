"""A real Content-Security-Policy violation in Chromium, reported through both report-uri
(application/csp-report) and report-to (the Reporting API, application/reports+json),
arrives as issues of category security on the portal's live server.

report-uri is delivered by Chromium itself. Chromium's Reporting API delivery service sent
nothing from headless Chromium 156 here (with --short-reporting-delay, within 100 s), so
for report-to the page takes Chromium's own report from a ReportingObserver and posts it
in the Reporting API's format (a list of {type, url, user_agent, body}) from the page."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitoring.models import ErrorIssue
from tests.factories import make_ingest_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    # An inline script, which `script-src 'self'` forbids.
    "/report-uri": ("script-src 'self'; report-uri {endpoint}", "<script>document.title = 'ran';</script>"),
    # A script from another origin, reported through the Reporting API.
    "/report-to": (
        "script-src 'self'; report-to lookout",
        '<script src="/observer.js"></script><script src="http://localhost:9/blocked.js"></script>',
    ),
}
OBSERVER = """
new ReportingObserver((reports) => {
  const batch = reports.map((r) => ({...r.toJSON(), age: 0, user_agent: navigator.userAgent}));
  fetch("%s", {method: "POST", headers: {"Content-Type": "application/reports+json"}, body: JSON.stringify(batch)});
}, {types: ["csp-violation"], buffered: true}).observe();
"""


@pytest.fixture
def site(live_server):
    key = make_ingest_key().key
    endpoint = f"{live_server.url}/api/{key.project_id}/security/?sentry_key={key.public_key}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/observer.js":
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.end_headers()
                self.wfile.write((OBSERVER % endpoint).encode())
                return
            if self.path not in PAGES:
                self.send_error(404)
                return
            policy, body = PAGES[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Security-Policy", policy.format(endpoint=endpoint))
            self.send_header("Reporting-Endpoints", f'lookout="{endpoint}"')
            self.end_headers()
            self.wfile.write(f"<!doctype html><title>shop</title>{body}".encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", key
    finally:
        server.shutdown()
        server.server_close()


def wait_for_issues(count: int, seconds: float = 30) -> list[ErrorIssue]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        issues = list(ErrorIssue.objects.order_by("title"))
        if len(issues) >= count:
            return issues
        time.sleep(0.3)
    return list(ErrorIssue.objects.order_by("title"))


def test_a_chromium_csp_violation_arrives_through_report_uri_and_report_to(site, browser_page):
    url, key = site
    browser_page.goto(f"{url}/report-uri")
    assert browser_page.title() == "shop"  # the inline script was blocked
    browser_page.goto(f"{url}/report-to")
    issues = wait_for_issues(2)

    assert [(i.title, i.category) for i in issues] == [
        ("Blocked 'script' from 'localhost:9'", "security"),
        ("Blocked unsafe inline 'script'", "security"),
    ]
    assert all(i.project_id == key.project_id for i in issues)
