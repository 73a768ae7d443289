"""``stockpot serve``'s application: Slack's requests and the Lightspeed OAuth start link and
callback (``bot.serving`` runs it behind waitress, with the operator routes of
``bot.ops_http``)."""

from __future__ import annotations

import errno
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.blocks.pos import lightspeed_connected
from stockpot.bot.gate import SlackGate, signing_secret
from stockpot.bot.jobs.slack import Notifier, Target
from stockpot.core.errors import StockpotError
from stockpot.core.pos import connections
from stockpot.core.settings import SLACK_REQUEST_MAX_BYTES, Settings

log = logging.getLogger(__name__)

PAGES = Environment(
    loader=PackageLoader("stockpot.bot", "templates"), autoescape=select_autoescape()
)
"""HTML pages only; Slack text is never rendered with HTML escaping."""

StartResponse = Callable[..., Any]

LIGHTSPEED_COOKIE = "stockpot-lightspeed"
"""Binds a Lightspeed authorization to the browser that opened its start link (as Bolt's
state cookie does for Slack's install). Over HTTPS it is ``__Host-`` prefixed: only this host,
over HTTPS, can set it, so a sibling subdomain cannot plant one."""


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
        self.notifier = Notifier(factory, client=app.client, installations=app.installation_store)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        page = {
            "/lightspeed/oauth/start": self.lightspeed_start,
            "/lightspeed/oauth/callback": self.lightspeed_callback,
        }.get(path)
        if page is None:
            return self.slack(environ, start_response)
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            # Each spends something once (a start link, Lightspeed's code): a link checker's
            # HEAD or a POST must not. Lightspeed sends the browser back with a GET.
            return _answer(start_response, "405 Method Not Allowed", b"", "text/plain", [])
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return page(environ, query, start_response)

    def _cookie(self) -> tuple[str, str]:
        """The binding cookie's name and attributes: ``Secure`` where the redirect URI is
        HTTPS; ``SameSite=Lax``, so it comes back with Lightspeed's top-level redirect."""
        if urlsplit(self.settings.lightspeed.redirect_uri or "").scheme == "https":
            return f"__Host-{LIGHTSPEED_COOKIE}", "Path=/; HttpOnly; SameSite=Lax; Secure"
        return LIGHTSPEED_COOKIE, "Path=/; HttpOnly; SameSite=Lax"

    def lightspeed_start(
        self, environ: dict[str, Any], query: dict[str, str], start_response: StartResponse
    ) -> Iterable[bytes]:
        """The link Slack shows: once, it sets the binding cookie and sends on to Lightspeed."""
        try:
            start = connections.open_lightspeed_start(
                self.factory, self.settings, query.get("s", "")
            )
        except StockpotError as error:
            log.warning("refused a Lightspeed start link: %r", str(error)[:200])
            page = PAGES.get_template("lightspeed_callback.html").render(
                ok=False, detail=str(error)
            )
            return _answer(
                start_response, "400 Bad Request", page.encode(), "text/html; charset=utf-8"
            )
        name, attributes = self._cookie()
        max_age = int(connections.STATE_TTL.total_seconds())
        start_response(
            "302 Found",
            [
                ("Location", start.authorize_url),
                ("Set-Cookie", f"{name}={start.cookie}; Max-Age={max_age}; {attributes}"),
                ("Cache-Control", "no-store"),
                ("Referrer-Policy", "no-referrer"),
                ("Content-Length", "0"),
            ],
        )
        return [b""]

    def lightspeed_callback(
        self, environ: dict[str, Any], query: dict[str, str], start_response: StartResponse
    ) -> Iterable[bytes]:
        name, attributes = self._cookie()
        ok, detail, connected = False, "", None
        headers = [("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer")]
        if "error" in query:
            detail = _lightspeed_refusal(query["error"])
        else:
            try:
                info = connections.complete_lightspeed(
                    self.factory,
                    self.settings,
                    state=query.get("state", ""),
                    code=query.get("code", ""),
                    cookie=_cookie_value(environ.get("HTTP_COOKIE", ""), name),
                )
                ok, connected = True, self._connected(query.get("state", ""), info)
                headers.append(("Set-Cookie", f"{name}=; Max-Age=0; {attributes}"))
            except connections.AuthorizationCompleted as done:
                # The page opened again (a refresh, or its address from a browser's history):
                # nothing to do, nothing to announce, and no name for whoever holds the URL.
                ok, detail = True, f"{done.info.shown} is connected (this page was opened again)."
            except StockpotError as error:
                detail = str(error)
        if not ok:
            # One line, whatever the query holds (repr: no line breaks from the URL).
            log.warning("refused a Lightspeed callback: %r", detail[:200])
        page = PAGES.get_template("lightspeed_callback.html").render(
            ok=ok, detail=detail, connected=connected
        )
        status = "200 OK" if ok else "400 Bad Request"
        return _answer(start_response, status, page.encode(), "text/html; charset=utf-8", headers)

    def _connected(self, state: str, info: connections.ConnectionInfo) -> dict[str, str]:
        """What was connected to what, for the page; and the admin who started is told in
        the channel they started from."""
        notify = connections.who_to_tell(self.factory, state)
        workspace = self._workspace(notify.team_id) if notify else ""
        business = info.account or "(Lightspeed did not say which; `/pos test` shows it)"
        if notify is not None:
            self._announce(
                Target.of(notify), lightspeed_connected(notify.user_id, info.company, info.account)
            )
        return {"business": business, "company": info.company, "workspace": workspace}

    def _workspace(self, team_id: str) -> str:
        """A Slack workspace by its name where the install stored it, and its id."""
        store = self.app.installation_store
        found = store.find_installation(enterprise_id=None, team_id=team_id) if store else None
        name = getattr(found, "team_name", None)
        return f"{name} ({team_id})" if name else team_id

    def _announce(self, target: Target, text: str) -> None:
        """Post off the request thread (the page answers at once, whatever Slack's delay)."""

        def post() -> None:
            self.notifier.post(target, {"text": text})

        self.app.listener_runner.listener_executor.submit(post)


OAUTH_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
"""What an OAuth ``error`` is (RFC 6749 §4.1.2.1: ``access_denied``, ``invalid_scope``...)."""


def _lightspeed_refusal(error: str) -> str:
    """The page's words for Lightspeed's ``error``: its code, never free text from the URL,
    which anyone can send to a Stockpot user ('log in again at ...') on Stockpot's page."""
    if error == "access_denied":
        return "Lightspeed answered that access was not allowed (access_denied)."
    if OAUTH_ERROR_CODE.fullmatch(error):
        return f"Lightspeed answered with the error {error}."
    return "Lightspeed answered with an error that is not an OAuth error code."


def _cookie_value(header: str, name: str) -> str:
    """The cookie ``name`` of a ``Cookie`` header ("" when absent). Parsed by hand: the
    standard library's parser drops every cookie after one it does not like, and this host
    may share its cookies with other apps."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
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


STOP_SECONDS = 5
"""How long ``BackgroundServer.stop`` waits for the requests in flight, then for its loop."""


class LateApp:
    """A WSGI app set after its server is listening: the bot's settings need the server's
    port (the Lightspeed redirect address), and binding first leaves no race for a port.
    The demo and the bot tests serve through one."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class BackgroundServer:
    """waitress in a thread (tests, the demo): ``stop()`` lets the requests being served
    finish, then closes every channel from inside the server's own loop (woken by its
    trigger), which ends ``run()``."""

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
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stockpot-http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            if not self._stopping:  # else the fallback of ``stop`` ended it, as it should
                # The server no longer answers; a descriptor of its loop was closed under
                # it, the fault ``stop`` works around: said where it happens, with its stack.
                log.warning("the test server's loop ended on an error", exc_info=True)

    def stop(self) -> None:
        """Stop serving, answering the requests in flight first.

        waitress's task threads are joined before any channel closes (its dispatcher's
        ``shutdown`` waits for the task each is running): closed first, a handler still
        running wrote its answer to a closed socket or pulled a closed trigger (EBADF, about
        once in 30 runs under load), and its client got no answer."""
        from waitress import wasyncore

        self._stopping = True
        self._server.task_dispatcher.shutdown(timeout=STOP_SECONDS)
        if self._thread.is_alive():
            trigger = self._server.trigger
            try:
                trigger.pull_trigger(self._close_channels)
            except OSError as error:
                if error.errno != errno.EBADF:
                    raise
                # Seen twice in CI under load: the wake-up pipe's descriptor was already
                # closed. The loop cannot be woken; its channels are closed from here, which
                # ends its select() with an error that ``_run`` absorbs. Not that descriptor
                # again: its number is free, maybe another file's by now (the trigger closes
                # its descriptors by number).
                log.warning("the test server's wake-up pipe was closed under it; closing it here")
                trigger._fds = [fd for fd in trigger._fds if fd != trigger.trigger]
                wasyncore.close_all(self._server._map, ignore_all=True)
            self._thread.join(timeout=STOP_SECONDS)

    def _close_channels(self) -> None:
        """Closes every channel, in the server's loop, after sending what the last answers
        left in their buffers: the loop sends it only once a channel is polled for writing,
        which a close in the same wake-up would have come before."""
        from waitress import wasyncore

        for channel in list(self._server._map.values()):
            if channel.writable():
                channel.handle_write()
        wasyncore.close_all(self._server._map)
