"""Slack's side of Socket Mode, on loopback, written from Slack's documentation
(docs.slack.dev/apis/events-api/using-socket-mode, and ``apps.connections.open``).

* ``apps.connections.open`` takes only an app-level token (``xapp-…``): none is
  ``not_authed``, a bot or user token is ``not_allowed_token_type``, an unknown app token
  ``invalid_auth``. It answers a single-use WebSocket URL (``ws://`` here, ``wss://`` at Slack).
* On connecting, the app gets ``hello``; then envelopes ``{"envelope_id", "type",
  "accepts_response_payload", "payload"}`` of type ``slash_commands``, ``interactive`` or
  ``events_api`` (these with ``retry_attempt`` and ``retry_reason``).
* The app acks each with ``{"envelope_id", "payload"?}``; the payload is what an HTTP answer
  would carry (a command's text, a view's ``response_action``), accepted only where the
  envelope said ``accepts_response_payload``.
* ``disconnect`` with reason ``refresh_requested`` (the link will be closed soon: open a new
  one, the old one stays until then) or ``link_disabled`` (Socket Mode was turned off; the
  link is closed). After a ``refresh_requested`` nothing new goes to the old link.
* An ``events_api`` envelope not acked is delivered again with ``retry_attempt`` one higher
  and ``retry_reason`` ``timeout``, also when its link drops before the ack; commands and
  interactions are not retried by Slack (the person sees an error), but their ack is taken
  on any link of the app, so a refresh loses none. Envelopes sent while no link is open wait
  for the next one.

``lose_next_ack(n)`` makes the stand-in ignore the next ``n`` acks of events (as if they never
arrived), which redelivers those envelopes: the test of "handled once".
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from stockpot.sandbox.slack_sender import SlackSender

if TYPE_CHECKING:
    from stockpot.sandbox.slack import SlackStandIn

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
RESPONSE_PAYLOAD = {"slash_commands", "interactive"}
"""Envelopes whose ack may carry a payload (interactions: only the ones that answer)."""


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    deliveries: int = 0

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
            "payload": self.payload,
        }
        if self.type == "events_api":
            message["retry_attempt"] = self.retry_attempt
            message["retry_reason"] = self.retry_reason
        return message


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    type: str
    payload: dict[str, Any] | None


@dataclass
class _Link:
    connection: ServerConnection
    number: int
    draining: bool = False
    delivered: set[str] = field(default_factory=set)


class SocketModeStandIn:
    """Serves the WebSocket side; ``SlackStandIn`` answers ``apps.connections.open`` with it."""

    def __init__(self, app_token: str = "xapp-1-A0001-1-sandbox", app_id: str = "A0001") -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.acks: list[Ack] = []
        self.envelopes: list[Envelope] = []
        """Every envelope sent, in order (with how often each was delivered)."""
        self.hellos = 0
        self.refused_acks: list[dict[str, Any]] = []
        """Acks Slack would drop: unknown envelope, or a payload where none is accepted."""
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._pending: dict[str, Envelope] = {}
        self._lost_acks = 0
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._changed = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- the Web API method ------------------------------------------------------------

    def open_connection(self, token: str) -> dict[str, Any]:
        """What ``apps.connections.open`` answers for ``token``."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if not secrets.compare_digest(token, self.app_token):
            return {"ok": False, "error": "invalid_auth"}
        ticket = secrets.token_hex(8)
        with self._changed:
            self._tickets.add(ticket)
        return {"ok": True, "url": f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"}

    # --- running -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def start(self) -> SocketModeStandIn:
        self._server = serve(self._serve_link, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(5)

    @contextmanager
    def running(self) -> Iterator[SocketModeStandIn]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # --- what tests do -----------------------------------------------------------------

    def send(self, type: str, payload: dict[str, Any]) -> str:
        """Queue an envelope for the app; delivered on the newest link (now, or once one
        connects). Returns its ``envelope_id``."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type!r}")
        accepts = type == "slash_commands" or (
            type == "interactive"
            and payload.get("type") in ("view_submission", "block_suggestion", "block_actions")
        )
        envelope = Envelope(f"sandbox-{next(self._ids):06d}", type, payload, accepts)
        with self._changed:
            self._pending[envelope.envelope_id] = envelope
            self.envelopes.append(envelope)
            link = self._newest()
        if link is not None:
            self._deliver(link, envelope)
        return envelope.envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        def found() -> Ack | None:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout=timeout):
                raise AssertionError(f"envelope {envelope_id} was not acked in {timeout} s")
            ack = found()
        assert ack is not None
        return ack

    def wait_connected(self, links: int = 1, timeout: float = 10.0) -> None:
        """Until ``links`` connections have said hello in all and one is open for new
        envelopes."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self.hellos >= links and self._newest() is not None, timeout=timeout
            ):
                raise AssertionError(f"expected {links} hello(s), got {self.hellos}")

    def disconnect(self, reason: str) -> None:
        """Tell every open link to go: ``refresh_requested`` or ``link_disabled``."""
        if reason not in ("refresh_requested", "link_disabled", "warning"):
            raise ValueError(reason)
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sandbox"}}
        )
        with self._changed:
            links = list(self._links)
            for link in links:
                link.draining = True
        for link in links:
            with suppress(ConnectionClosed):
                link.connection.send(message)
                if reason == "link_disabled":
                    link.connection.close()

    def lose_next_ack(self, count: int = 1) -> None:
        with self._changed:
            self._lost_acks += count

    @property
    def pending(self) -> list[str]:
        with self._changed:
            return list(self._pending)

    # --- the link ------------------------------------------------------------------------

    def _newest(self) -> _Link | None:
        open_links = [link for link in self._links if not link.draining]
        return open_links[-1] if open_links else None

    def _serve_link(self, connection: ServerConnection) -> None:
        request = connection.request
        query = parse_qs(urlsplit(request.path if request else "").query)
        ticket = (query.get("ticket") or [""])[0]
        with self._changed:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)  # single use
        if not valid:
            connection.close(code=1008, reason="invalid or used ticket")
            return
        link = _Link(connection, next(self._numbers))
        with self._changed:
            self._links.append(link)
            # Envelopes queued while no link was open; those out on another link wait for
            # their ack there (an ack may come back on any link of the app).
            waiting = [e for e in self._pending.values() if e.deliveries == 0]
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._links),
                    "debug_info": {"host": "applink-sandbox", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        with self._changed:
            self.hellos += 1
            self._changed.notify_all()
        for envelope in waiting:
            self._deliver(link, envelope)
        try:
            for raw in connection:
                self._received(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._links.remove(link)
                after = self._newest()
                orphans = [
                    e
                    for e in self._pending.values()
                    if e.envelope_id in link.delivered and e.type == "events_api"
                ]
            if after is not None:
                for envelope in orphans:
                    self._deliver(after, envelope, retry=True)

    def _deliver(self, link: _Link, envelope: Envelope, *, retry: bool = False) -> None:
        with self._changed:
            if envelope.envelope_id not in self._pending:
                return
            if retry and envelope.type == "events_api":
                envelope.retry_attempt += 1
                envelope.retry_reason = "timeout"
            envelope.deliveries += 1
            link.delivered.add(envelope.envelope_id)
        with suppress(ConnectionClosed):  # if closed, delivered again on the next link
            link.connection.send(json.dumps(envelope.message()))

    def _received(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        envelope_id = str(message["envelope_id"])
        payload = message.get("payload")
        redeliver: tuple[_Link, Envelope] | None = None
        with self._changed:
            envelope = self._pending.get(envelope_id)
            if envelope is None or (payload and not envelope.accepts_response_payload):
                self.refused_acks.append(message)
                return
            if self._lost_acks and envelope.type == "events_api":
                self._lost_acks -= 1
                link = self._newest()
                if link is not None:
                    redeliver = (link, envelope)
            else:
                del self._pending[envelope_id]
                body = payload if isinstance(payload, dict) else None
                self.acks.append(Ack(envelope_id, envelope.type, body))
                self._changed.notify_all()
        if redeliver is not None:
            self._deliver(*redeliver, retry=True)


class SocketSender(SlackSender):
    """What ``SlackSender`` sends over HTTP, sent as Socket Mode envelopes instead: the same
    payloads, so a test can run one conversation over both. Each call waits for the app's
    ack and answers like the HTTP request would have: 200 with the ack's payload as body."""

    def __init__(self, stand_in: SlackStandIn) -> None:
        super().__init__("http://socket-mode.invalid/", "unused", stand_in)
        assert stand_in.socket_mode is not None, "enable_socket_mode() first"
        self.socket = stand_in.socket_mode

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if "json" in content_type:
            kind, payload = "events_api", json.loads(body)
        else:
            fields = {key: values[0] for key, values in parse_qs(body).items()}
            if "payload" in fields:
                kind, payload = "interactive", json.loads(fields["payload"])
            else:
                kind, payload = "slash_commands", fields
        ack = self.socket.wait_ack(self.socket.send(kind, payload))
        if ack.payload is None:
            return httpx.Response(200, content=b"")
        return httpx.Response(200, json=ack.payload)
