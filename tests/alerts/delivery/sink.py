"""A local webhook sink: a threaded HTTP server on 127.0.0.1 that records every request.

It answers with the statuses it is told to (then 200), and can hold the first request
open until released, which is how the crash test catches a worker mid-send.
"""

import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Sink:
    def __init__(self, *, hold_first: bool = False):
        self.requests: list[Received] = []
        self.statuses: deque[int] = deque()
        self.body = b'{"ok": true}'
        self.extra_headers: dict[str, str] = {}
        self.hold_first = hold_first
        self.holding = threading.Event()
        self.release = threading.Event()
        self.url = ""
        self._lock = threading.Lock()

    def answer(self, *statuses: int) -> None:
        """The next requests get these statuses, in order; after them, 200."""
        self.statuses.extend(statuses)

    def deliveries(self) -> dict[str, Received]:
        """What a receiver that drops repeats keeps: the first request per Idempotency-Key."""
        kept: dict[str, Received] = {}
        for received in self.requests:
            kept.setdefault(received.headers.get("idempotency-key", ""), received)
        return kept

    def _record(self, handler: BaseHTTPRequestHandler) -> tuple[int, bool]:
        length = int(handler.headers.get("Content-Length") or 0)
        received = Received(
            handler.command,
            handler.path,
            {k.lower(): v for k, v in handler.headers.items()},
            handler.rfile.read(length),
        )
        with self._lock:
            self.requests.append(received)
            hold = self.hold_first and len(self.requests) == 1
            status = self.statuses.popleft() if self.statuses else 200
        return status, hold


def _handler(sink: Sink):
    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            status, hold = sink._record(self)
            if hold:
                sink.holding.set()
                sink.release.wait(120)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(sink.body)))
                for name, value in sink.extra_headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(sink.body)
            except OSError:
                pass  # the client is gone (killed mid-request)

        do_POST = do_GET = do_PUT = _handle

        def log_message(self, format, *args):
            pass

    return Handler


@contextmanager
def serve_sink(*, hold_first: bool = False):
    sink = Sink(hold_first=hold_first)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield sink
    finally:
        sink.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
