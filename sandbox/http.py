"""The HTTP plumbing every sandbox server shares: a threaded server on loopback, routing,
a settable clock, a request log, and fault injection.

Stdlib only, on purpose: faults such as a dropped connection or a truncated body need control
over the socket that web frameworks hide.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IDLE_POLL_SECONDS = 2.0
"""How often an idle server's loop wakes; a short one (it was 0.02 s) costs CPU all the time."""


class Clock:
    """Real time until set; once set it stands still until set or advanced again."""

    def __init__(self, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed = now

    def now(self) -> datetime:
        with self._lock:
            return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the sandbox clock takes aware datetimes")
        with self._lock:
            self._fixed = now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._fixed = (self._fixed or datetime.now(UTC)) + delta


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    """Named groups of the route's pattern."""
    arrived: float = field(default_factory=time.monotonic)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode()
        return cls(
            status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location})

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


Handler = Callable[[Request], Response]


@dataclass
class Fault:
    """What to do instead of (or before) answering a request.

    ``respond`` replaces the answer; ``delay`` waits first; ``truncate`` sends half the body
    and closes; ``drop`` closes the connection without answering; ``before`` runs a hook
    (e.g. expire every token) and then answers normally; ``after`` runs a hook once the
    request was carried out, before its answer is sent (e.g. hold it while the caller is
    killed: the effect happened, the caller never heard of it).
    """

    respond: Response | None = None
    delay: float = 0.0
    truncate: bool = False
    drop: bool = False
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None
    answer: Callable[[Request], Response] | None = None
    """Builds the answer from the request instead of ``respond``'s fixed one."""

    @classmethod
    def status(cls, status: int, data: Any = None, headers: dict[str, str] | None = None) -> Fault:
        return cls(respond=Response.json(data if data is not None else {}, status, headers))

    @classmethod
    def echoing(cls, status: int) -> Fault:
        """An error answer whose message repeats the request it refuses, headers, query and
        body (a framework's debug message, a gateway's trace): whatever secret the client
        sent comes back in it."""

        def answer(request: Request) -> Response:
            headers = "; ".join(f"{key}: {value}" for key, value in request.headers.items())
            query = "&".join(f"{k}={v}" for k, values in request.query.items() for v in values)
            body = request.body.decode("utf-8", "replace")
            echoed = f"rejected {request.method} {request.path}?{query} [{headers}] {body}"
            return Response.json({"error": HTTPStatus(status).phrase, "message": echoed}, status)

        return cls(answer=answer)


@dataclass
class _Planned:
    fault: Fault
    pattern: re.Pattern[str]
    remaining: int
    skip: int


class FaultPlan:
    """Faults to inject, each for ``times`` matching requests after skipping ``after`` of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[_Planned] = []

    def add(self, fault: Fault, *, path: str = ".*", times: int = 1, after: int = 0) -> None:
        with self._lock:
            self._planned.append(_Planned(fault, re.compile(path), times, after))

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for planned in self._planned:
                if planned.remaining <= 0 or not planned.pattern.search(path):
                    continue
                if planned.skip > 0:
                    planned.skip -= 1
                    continue
                planned.remaining -= 1
                return planned.fault
        return None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None
    arrived: float = 0.0
    """``time.monotonic()`` when the request had been read (before any latency): the
    spacing a POS sees. The clock is the machine's, so another process can compare."""


class SandboxServer:
    """A routed HTTP server on 127.0.0.1, in a background thread.

    Subclasses register routes with ``self.route(method, pattern, handler)``; patterns are
    regular expressions over the path with named groups for path parameters.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.faults = FaultPlan()
        self.requests: list[LoggedRequest] = []
        self.latency = 0.0
        """Seconds added to every answer (a slow network)."""
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0, host: str = "127.0.0.1") -> SandboxServer:
        server = _QuietServer((host, port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": IDLE_POLL_SECONDS},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        # serve_forever looks at the shutdown flag only when its select wakes: a connection
        # wakes it at once instead of after up to IDLE_POLL_SECONDS.
        stopping = threading.Thread(target=server.shutdown, daemon=True)
        stopping.start()
        address = server.server_address[:2]
        while stopping.is_alive():
            with suppress(OSError), socket.create_connection(address, timeout=1):
                pass
            stopping.join(0.05)
        server.server_close()
        self._server = None

    @contextmanager
    def running(self, port: int = 0) -> Iterator[SandboxServer]:
        self.start(port)
        try:
            yield self
        finally:
            self.stop()

    def dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                return handler(request)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no route for {request.method} {request.path}"}, 404)

    def _log(self, request: Request, status: int | None) -> None:
        logged = LoggedRequest(request.method, request.path, request.query, status, request.arrived)
        with self._log_lock:
            self.requests.append(logged)


class _QuietServer(ThreadingHTTPServer):
    """A browser that reloads drops its long poll: the failed write is expected, not a
    traceback on the terminal. Other errors are still printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _make_handler(app: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        """Headers and body go out in two writes; without this, delayed ACKs add ~40 ms."""

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            fault = app.faults.take(request.path)
            delay = app.latency + (fault.delay if fault else 0.0)
            if delay:
                time.sleep(delay)
            if fault and fault.drop:
                app._log(request, None)
                self._abort()
                return
            if fault and fault.before:
                fault.before()
            response = fault.respond if fault and fault.respond else None
            if fault and fault.answer:
                response = fault.answer(request)
            if response is None:
                try:
                    response = app.dispatch(request)
                except Exception as error:  # a bug in the sandbox must still answer
                    response = Response.json({"error": f"sandbox error: {error!r}"}, 500)
            if fault and fault.after:
                fault.after()
            app._log(request, response.status)
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if fault and fault.truncate:
                self.wfile.write(response.body[: len(response.body) // 2])
                self.wfile.flush()
                self._abort()
                return
            self.wfile.write(response.body)

        def _abort(self) -> None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - stdlib naming

    return _Handler
