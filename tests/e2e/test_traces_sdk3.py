"""A real trace from the real sentry-sdk 3.x, unchanged: its streamed spans are kept, an error
raised inside it links its issue to the trace, and the trace page draws the waterfall in Chromium
with nothing fetched from elsewhere.

sentry-sdk 3.x is installed and run as in tests/e2e/test_sentry_sdk3.py (its fixture, reused)."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from monitoring.models import ErrorEvent, Span, Transaction
from tests.browser import NO_SIDEWAYS_SCROLL
from tests.e2e.test_sentry_sdk3 import _run, sentry_sdk3  # noqa: F401  the fixture installs 3.x
from tests.factories import make_ingest_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-and-unguessable-passphrase"

# One request: a query with a row fetch inside, then a call to a payment service that fails
# with an error the app reports while the span is open.
SCRIPT = """
import json, os, time, sentry_sdk

sentry_sdk.init(
    dsn=os.environ["DSN"], release=os.environ["RELEASE"], environment="e2e", traces_sample_rate=1.0,
    default_integrations=False,
)
with sentry_sdk.start_span(name="POST /checkout", attributes={"sentry.op": "http.server"}) as request:
    with sentry_sdk.start_span(name="SELECT cart", attributes={"sentry.op": "db"}):
        time.sleep(0.02)
        with sentry_sdk.start_span(name="fetch rows", attributes={"sentry.op": "db.fetch"}):
            time.sleep(0.01)
    with sentry_sdk.start_span(name="POST psp/charge", attributes={"sentry.op": "http.client"}) as call:
        time.sleep(0.03)
        try:
            raise ConnectionError("payment service refused the charge")
        except ConnectionError:
            event_id = sentry_sdk.capture_exception()
        call.status = "error"
    trace_id = request.trace_id
sentry_sdk.flush(timeout=10)
print(json.dumps({"trace_id": trace_id, "event_id": event_id}))
"""


def test_a_sentry_sdk3_trace_is_kept_and_drawn_from_its_issue(sentry_sdk3, live_server, browser_page, screenshot_path):  # noqa: F811
    key = make_ingest_key().key
    run = _run(SCRIPT, sentry_sdk3, live_server.url, key)
    assert run.returncode == 0, run.stderr
    sent = json.loads(run.stdout.strip().splitlines()[-1])
    trace_id = sent["trace_id"]

    # Kept: the request as a transaction, and its four spans nested as the code nested them.
    transaction = Transaction.objects.get(project=key.project, trace_id=trace_id)
    assert (transaction.name, transaction.op, transaction.release) == ("POST /checkout", "http.server", "shop@3.1.0")
    assert transaction.duration >= 60
    spans = {s.description: s for s in Span.objects.filter(trace_id=trace_id)}
    assert set(spans) == {"POST /checkout", "SELECT cart", "fetch rows", "POST psp/charge"}
    assert spans["fetch rows"].parent_span_id == spans["SELECT cart"].span_id
    assert spans["SELECT cart"].parent_span_id == spans["POST psp/charge"].parent_span_id == transaction.span_id
    assert spans["SELECT cart"].duration >= 30 and spans["POST psp/charge"].status == "error"
    event = ErrorEvent.objects.get(event_id=sent["event_id"].replace("-", ""))
    assert event.payload["contexts"]["trace"]["trace_id"] == trace_id

    # Read as a person reads it: from the issue to its trace.
    page = browser_page
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    get_user_model().objects.create_superuser("operator", "operator@example.com", PASSWORD)
    issue_url = f"/admin/monitoring/errorissue/{event.issue_id}/change/"
    page.goto(f"{live_server.url}/admin/login/?next={issue_url}")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").click()
    page.wait_for_url(f"{live_server.url}{issue_url}")
    page.locator("#event-trace-link").click()
    page.wait_for_url(f"{live_server.url}/traces/{trace_id}/")

    expect(page.locator("#trace-id")).to_have_text(trace_id)
    rows = page.locator("#waterfall [data-depth]")
    expect(rows).to_have_count(4)
    texts = [" ".join(t.split()) for t in rows.all_inner_texts()]
    depths = [int(d) for d in rows.evaluate_all("rs => rs.map(r => r.dataset.depth)")]
    assert list(zip(texts, depths)) == [
        ("http.server POST /checkout", 0),
        ("db SELECT cart", 1),
        ("db.fetch fetch rows", 2),
        ("http.client POST psp/charge", 1),
    ]
    # Bars sit in time order along the axis: the payment call starts after the query ends.
    boxes = {t: page.locator(f'[data-bar="{spans[t].span_id}"]').bounding_box() for t in spans}
    assert boxes["POST /checkout"]["width"] > boxes["SELECT cart"]["width"] > boxes["fetch rows"]["width"]
    assert boxes["POST psp/charge"]["x"] >= boxes["SELECT cart"]["x"] + boxes["SELECT cart"]["width"] - 1
    assert re.fullmatch(r"[\d.]+ ms", page.locator("#trace-duration").inner_text())
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the trace page scrolls sideways at 1280 px"
    assert errors == []
    assert all(url.startswith(live_server.url) for url in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    page.screenshot(path=screenshot_path("trace-waterfall"), full_page=True)
