"""The benchmark's wrk driver reports one latency per answered request, as wrk measured it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.wrk import wrk_latencies

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """wrk is stopped with connections open: their reset is no error of the test's."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = Quiet(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/events"
    finally:
        httpd.shutdown()
        thread.join()


def test_every_answer_has_its_latency_not_each_distinct_one(server):
    """wrk keeps a histogram: ``latency(i)`` is its i-th distinct value. Read as one value a
    request, two requests that took the same microseconds counted once, and the list was
    padded with zeros: a p50 or p99 taken from it was lower than wrk measured."""
    timed = 400
    prepared = [("/events", {"Content-Type": "text/plain"}, f"request {n}") for n in range(500)]
    latencies = wrk_latencies(server, prepared, timed, concurrency=4)
    assert len(latencies) >= timed
    assert min(latencies) > 0, "no request is answered in no time"
    assert len(set(latencies)) < len(latencies), "a server this quick repeats a microsecond"
    assert latencies == sorted(latencies)
