"""Serving until told to stop: waitress for HTTP, and a Socket Mode connection when
``SLACK_APP_TOKEN`` is set, both shut down gracefully on SIGTERM or SIGINT.

On the signal the listening socket is closed first (a load balancer's next connection goes
to another process), then the requests in flight are answered and the listeners they started
(Bolt runs a listener on its own pool after the ack) finish, for up to
``STOCKPOT_SHUTDOWN_SECONDS``; then the process exits.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from stockpot.bot.ops_http import OpsRoutes
from stockpot.bot.server import StockpotWsgi, waitress_options
from stockpot.core.errors import ConfigurationError
from stockpot.core.settings import SLACK_REQUEST_MAX_BYTES, Settings

log = logging.getLogger(__name__)

HTTP_THREADS = 8


class GracefulServer:
    """waitress in a thread, with a ``drain`` that stops accepting and waits for what is in
    flight. ``port`` 0 takes a free port (``self.port`` says which)."""

    def __init__(
        self,
        wsgi: Callable[..., Any],
        port: int,
        host: str,
        threads: int,
        max_body_bytes: int = SLACK_REQUEST_MAX_BYTES,
    ) -> None:
        """``max_body_bytes``: waitress answers 413 to a longer ``Content-Length`` before it
        buffers the body (the Slack gate checks the same limit in WSGI terms)."""
        import waitress

        self._server: Any = waitress.create_server(
            wsgi, host=host, port=port, threads=threads, **waitress_options(max_body_bytes)
        )
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="stockpot-http")

    def start(self) -> GracefulServer:
        self._thread.start()
        return self

    def drain(self, deadline: float) -> bool:
        """Stop accepting, answer what is in flight until ``deadline`` (monotonic), close.
        Returns whether everything in flight was answered."""
        closed = threading.Event()

        def stop_listening() -> None:
            self._server.accepting = False
            self._server.del_channel()
            self._server.socket.close()
            closed.set()

        self._server.trigger.pull_trigger(stop_listening)  # runs in the server's own loop
        closed.wait(max(deadline - time.monotonic(), 0))
        idle = _wait_until(self._idle, deadline)
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=1)
        self._server.trigger.pull_trigger(self._close_all)
        self._thread.join(max(deadline - time.monotonic(), 1))
        return idle

    def _idle(self) -> bool:
        dispatcher = self._server.task_dispatcher
        channels = list(self._server.active_channels.values())
        return (
            not dispatcher.queue
            and dispatcher.active_count == 0
            and all(not channel.requests and not channel.total_outbufs_len for channel in channels)
        )

    def _close_all(self) -> None:
        from waitress import wasyncore

        wasyncore.close_all(self._server._map)


def _wait_until(condition: Callable[[], bool], deadline: float) -> bool:
    """Process shutdown, not a test: look every 50 ms until true or the deadline."""
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop``, from a thread of their own that reads the signal
    module's wakeup pipe.

    The kernel hands a process's signal to any of its threads. CPython's C-level handler, in
    whichever thread that is, only notes it; the Python handler runs later in the main
    thread, between two bytecodes. A main thread asleep in an untimed ``stop.wait()`` runs
    none, so a signal that landed on, say, the heartbeat thread was never acted on (a worker
    hung 240 s after SIGTERM, twice in CI). The wakeup fd is written by the C-level handler
    itself, in the thread the signal landed on, so the relay wakes whatever the main thread
    is doing. Setting ``stop`` from a Python handler had a second trap: the handler could run
    while the main thread held the Event's lock inside ``wait``, and wait for it for ever."""
    woken, waking = os.pipe()
    os.set_blocking(waking, False)
    stopping = {signal.SIGTERM, signal.SIGINT}

    def relay() -> None:
        # The pipe carries each signal's number, of any signal with a Python handler (one
        # a library sets for SIGUSR1, say): only ours stop the process.
        while True:
            numbers = os.read(woken, 64)
            if not numbers or stopping.intersection(numbers):
                break
        received = next((signal.Signals(n).name for n in numbers if n in stopping), "a stop signal")
        log.info("%s received: stopping; what is in flight is finished first", received)
        stop.set()

    threading.Thread(target=relay, name="stockpot-signals", daemon=True).start()
    for sig in stopping:
        signal.signal(sig, _noted)
    signal.set_wakeup_fd(waking, warn_on_full_buffer=False)


def _noted(signum: int, frame: object) -> None:
    """The Python-level handler: nothing to do, the wakeup pipe has been written already
    (a handler must be set, or the signal's default action would end the process)."""


def serve(
    wsgi: StockpotWsgi,
    port: int,
    settings: Settings,
    *,
    stop: threading.Event,
    drains: Iterable[Callable[[], None]] = (),
    host: str = "0.0.0.0",
    listening: Callable[[int], None] | None = None,
) -> None:
    """Serve until ``stop`` is set, then shut down gracefully; ``drains`` run last (the
    listener pool, this process's worker), each waiting for its own work. ``listening`` is
    told the port once it is bound (``port`` 0 takes a free one): a start line said before
    would name a port nothing listens on yet, or 0."""
    from stockpot.bot.socket_mode import SocketMode

    socket_mode = None
    if settings.slack.app_token is not None:
        try:
            socket_mode = SocketMode(
                wsgi.app, settings.slack.app_token.get_secret_value()
            ).connect()
        except SlackApiError as error:
            raise ConfigurationError(
                f"Slack refused the Socket Mode connection ({error.response.get('error')}): "
                "check SLACK_APP_TOKEN (an app-level token, xapp-…, with connections:write) "
                "and that Socket Mode is on in the app's settings; `stockpot check` tells more"
            ) from None
        log.info("connected to Slack over Socket Mode")
    server = GracefulServer(
        OpsRoutes(wsgi, wsgi.factory, settings),
        port,
        host,
        HTTP_THREADS,
        max_body_bytes=settings.slack.request_max_bytes,
    )
    server.start()
    log.info("serving on port %s", server.port)
    if listening is not None:
        listening(server.port)
    stop.wait()
    deadline = time.monotonic() + settings.shutdown_seconds
    log.info("stopping: no new requests; answering those in flight")
    if socket_mode is not None:
        socket_mode.close()
    answered = server.drain(deadline)
    if not answered:
        log.warning("requests were still in flight after %s s", settings.shutdown_seconds)
    listener_pool(wsgi.app).shutdown(wait=True)
    for drain in drains:
        drain()
    log.info("stopped cleanly: every request in flight was answered" if answered else "stopped")


def listener_pool(app: App) -> Executor:
    """The pool Bolt runs listeners on after their ack (``build_app`` gives it)."""
    return app.listener_runner.listener_executor
