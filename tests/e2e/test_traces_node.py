"""A real trace from the real @sentry/node, unchanged, through gunicorn as the Procfile runs it
(the SDK streams every body chunked): its spans are kept nested as the code nested them, and the
trace's waterfall lays them out in time.

node, npm and @sentry/node are as in tests/e2e/test_sentry_node.py (its fixture, reused)."""

from tests.e2e.test_sentry_node import _run, run_node_app, sentry_node  # noqa: F401  the fixture installs @sentry/node

# One request: a query with a row fetch inside it, then a failing call to a payment service.
SCRIPT = """
const Sentry = require('@sentry/node');
Sentry.init({dsn: process.env.DSN, release: 'node-app@1.0.0', environment: 'e2e', tracesSampleRate: 1.0});
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
Sentry.startSpan({name: 'POST /checkout', op: 'http.server'}, async () => {
  await Sentry.startSpan({name: 'SELECT cart', op: 'db'}, async () => {
    await sleep(20);
    await Sentry.startSpan({name: 'fetch rows', op: 'db.fetch'}, () => sleep(10));
  });
  await Sentry.startSpan({name: 'POST psp/charge', op: 'http.client'}, async (call) => {
    await sleep(30);
    call.setStatus({code: 2, message: 'internal_error'});
  });
}).then(() => Sentry.flush(5000));
"""

STORED = """
import json
from monitoring.models import Span, Transaction
from monitoring.traces.selectors import trace_waterfall
transaction = Transaction.objects.get(name="POST /checkout")
waterfall = trace_waterfall(transaction.trace_id)
spans = list(Span.objects.filter(trace_id=transaction.trace_id))
by_id = {s.span_id: s.description for s in spans}
print(json.dumps({
    "transaction": [transaction.op, transaction.release, transaction.duration, transaction.span_id],
    "parents": {s.description: by_id.get(s.parent_span_id, "") for s in spans},
    "rows": [[r.span.description, r.depth, r.left, r.width] for r in waterfall.rows],
    "failed": [r.span.description for r in waterfall.rows if r.failed],
}))
"""


def test_a_node_trace_is_kept_nested_and_laid_out_in_time(sentry_node, tmp_path):  # noqa: F811
    env, run = run_node_app(sentry_node, tmp_path, SCRIPT)
    assert run.returncode == 0, run.stderr
    stored = _run(env, "shell", "-c", STORED)

    op, release, duration, _ = stored["transaction"]
    assert (op, release) == ("http.server", "node-app@1.0.0") and duration >= 60
    assert stored["parents"] == {
        "POST /checkout": "",
        "SELECT cart": "POST /checkout",
        "fetch rows": "SELECT cart",
        "POST psp/charge": "POST /checkout",
    }
    rows = {description: (depth, left, width) for description, depth, left, width in stored["rows"]}
    assert [r[0] for r in stored["rows"]] == ["POST /checkout", "SELECT cart", "fetch rows", "POST psp/charge"]
    assert [rows[d][0] for d in ("POST /checkout", "SELECT cart", "fetch rows", "POST psp/charge")] == [0, 1, 2, 1]
    assert rows["POST /checkout"][1] == 0 and rows["POST /checkout"][2] > 99
    # The payment call starts after the query ends, as awaited.
    assert rows["POST psp/charge"][1] >= rows["SELECT cart"][1] + rows["SELECT cart"][2] - 0.5
    assert stored["failed"] == ["POST psp/charge"]
