"""``stockpot serve``'s application: Slack's requests and the Lightspeed OAuth callback
(``bot.serving`` runs it behind waitress, with the operator routes of ``bot.ops_http``)."""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, select_autoescape
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.gate import SlackGate, signing_secret
from stockpot.core.errors import StockpotError
from stockpot.core.pos import connections
from stockpot.core.settings import SLACK_REQUEST_MAX_BYTES, Settings

log = logging.getLogger(__name__)

PAGES = Environment(
    loader=PackageLoader("stockpot.bot", "templates"), autoescape=select_autoescape()
)
"""HTML pages only; Slack text is never rendered with HTML escaping."""

StartResponse = Callable[..., Any]


class StockpotWsgi:
    def __init__(self, app: App, factory: sessionmaker[Session], settings: Settings) -> None:
        self.app = app
        self.slack = SlackGate(
            SlackRequestHandler(app, path="/slack/events"),
            signing_secret(settings),
            max_bytes=settings.slack.request_max_bytes,
        )
        self.factory = factory
        self.settings = settings

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/lightspeed/oauth/callback":
            return self.lightspeed_callback(environ, start_response)
        return self.slack(environ, start_response)

    def lightspeed_callback(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        ok, detail = False, ""
        if "error" in query:
            detail = f"Lightspeed answered: {query['error']}"
        else:
            try:
                info = connections.complete_lightspeed(
                    self.factory,
                    self.settings,
                    state=query.get("state", ""),
                    code=query.get("code", ""),
                )
                ok, detail = True, f"{info.shown} is connected for {info.company}."
                self._announce(
                    query.get("state", ""),
                    f"Lightspeed is connected for {info.company}. Next: `/pos sync`.",
                )
            except connections.AuthorizationCompleted as done:
                # The page opened again (a refresh): nothing to do, nothing to announce.
                info = done.info
                ok, detail = True, f"{info.shown} is connected for {info.company} (opened again)."
            except StockpotError as error:
                detail = str(error)
        if not ok:
            # One line, whatever the query holds (repr: no line breaks from the URL).
            log.warning("refused a Lightspeed callback: %r", detail[:200])
        page = PAGES.get_template("lightspeed_callback.html").render(ok=ok, detail=detail)
        status = "200 OK" if ok else "400 Bad Request"
        return _answer(start_response, status, page.encode(), "text/html; charset=utf-8")

    def _announce(self, state: str, text: str) -> None:
        """Tell the channel the connection was started from, off the request thread (the
        page answers at once, whatever Slack's delay)."""
        target = connections.who_to_tell(self.factory, state)
        if target is None:
            return
        channel, user = target

        def post() -> None:
            try:
                self.app.client.chat_postMessage(channel=channel, text=f"<@{user}> {text}")
            except Exception:
                log.exception("could not announce the Lightspeed connection in Slack")

        self.app.listener_runner.listener_executor.submit(post)


def _answer(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


LOOP_SECONDS = 1
"""How long waitress's select loop sleeps when nothing happens. waitress reads
``asyncore_loop_timeout`` as whole seconds (``int``): 0.05 became 0, a loop that never slept
(a whole core while idle). Stopping does not wait for it: ``stop`` wakes the loop."""

CONNECTION_LIMIT = 1000
"""Open connections waitress accepts at once. Its default, 100, let 100 idle connections
(a client that opens them and sends half a request) shut Slack out: every later command
waited for a free place past Slack's three seconds."""

IDLE_SECONDS = 30
"""A connection that sends nothing this long is closed (waitress's default: 120 s)."""


def waitress_options(max_body_bytes: int) -> dict[str, Any]:
    """What every waitress server here runs with (``serve``, ``run``, the worker's metrics,
    the demo and the tests): ``poll()`` rather than ``select()``, which fails past file
    descriptor 1024, so the connection limit can be above it."""
    return {
        "asyncore_loop_timeout": LOOP_SECONDS,
        "asyncore_use_poll": True,
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": IDLE_SECONDS,
        "cleanup_interval": IDLE_SECONDS // 3,
        "max_request_body_size": max_body_bytes,
    }


class LateApp:
    """A WSGI app set after its server is listening: the bot's settings need the server's
    port (the Lightspeed redirect address), and binding first leaves no race for a port.
    The demo and the bot tests serve through one."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class BackgroundServer:
    """waitress in a thread (tests, the demo): ``stop()`` closes every channel from inside the
    server's own loop (woken by its trigger), which ends ``run()``."""

    def __init__(
        self,
        wsgi: Callable[..., Any],
        port: int,
        host: str = "127.0.0.1",
        max_body_bytes: int = SLACK_REQUEST_MAX_BYTES,
    ) -> None:
        import waitress

        self._server = waitress.create_server(
            wsgi, host=host, port=port, threads=4, **waitress_options(max_body_bytes)
        )
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self._run, name="stockpot-http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._server.run()

    def stop(self) -> None:
        from waitress import wasyncore

        if self._thread.is_alive():
            try:
                self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
            except OSError as error:
                if error.errno != errno.EBADF:
                    raise
                # Seen twice in CI under load: the wake-up pipe's descriptor was already
                # closed. The loop cannot be woken; its channels are closed from here, which
                # ends its select() with an error that ``_run`` absorbs.
                log.warning("the test server's wake-up pipe was closed under it; closing it here")
                wasyncore.close_all(self._server._map, ignore_all=True)
            self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown()
