"""Slack over Socket Mode: the same Bolt app, reached through a WebSocket that Stockpot opens
to Slack, for installs without a public address.

slack_bolt's ``SocketModeHandler`` on slack_sdk's built-in client (no extra package): it asks
``apps.connections.open`` with the app-level token (``xapp-…``) for a WebSocket URL, acks
each envelope with the listener's answer (a view's errors, a command's text) and reconnects
on ``disconnect`` (``refresh_requested``, ``link_disabled``) or a dropped link. Slack
redelivers an envelope that was not acked, so an effect is never lost; Stockpot's listeners
are idempotent, so it is not doubled either.
"""

from __future__ import annotations

import contextlib
import functools
import socket
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import ConnectionState
from slack_sdk.socket_mode.request import SocketModeRequest

from stockpot.core import log_context, metrics

ENVELOPE_TYPES = frozenset({"slash_commands", "interactive", "events_api"})


class _ObservedHandler(SocketModeHandler):
    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        kind = req.type if req.type in ENVELOPE_TYPES else "other"
        metrics.SOCKET_MODE_ENVELOPES.labels(kind).inc()
        with log_context.bound(request_id=req.envelope_id[:64]):
            super().handle(client, req)


class _PromptRefreshClient(SocketModeClient):
    """slack_sdk's built-in client, whose reconnection does not wait for the old link.

    Its ``connect`` opens the new link, then closes the old one, which takes the old reader's
    receive lock: held in ``recv`` until the old link sends something or 3 s pass. It runs on
    the thread that takes every message off the queue (on Slack's ``disconnect``, which comes
    at every ``refresh_requested``), so the envelopes arriving on the new link waited too,
    against Slack's 3 s for an ack. The old socket is shut down before it is closed, which
    ends that ``recv`` at once."""

    def connect(self) -> None:
        old = self.current_session
        if old is not None:
            old.close = functools.partial(_shut_then_close, old.close, old)  # type: ignore[method-assign]
        super().connect()

    @property  # type: ignore[override]
    def current_session_state(self) -> ConnectionState:
        if "_state_until_closed" not in self.__dict__:  # slack_sdk's __init__ made it
            self.current_session_state = self.__dict__["current_session_state"]
        return self.__dict__["_state_until_closed"]  # type: ignore[no-any-return]

    @current_session_state.setter
    def current_session_state(self, state: ConnectionState) -> None:
        self.__dict__["_state_until_closed"] = _StateUntilClosed(self, state.terminated)


class _StateUntilClosed(ConnectionState):
    """A session's ``terminated`` that stays true once its client is closed.

    slack_sdk's session runner sets its state's ``terminated`` to false as it starts a
    session, and ``close`` sets it true: a close between the runner's check that the session
    is active and that reset (or during a reconnect, which gives the runner the old state and
    the new session) was undone, and the runner looped on the closed session for ever while
    ``close`` waited for it. A stop of ``serve`` in Socket Mode hung, and so did a test's."""

    def __init__(self, client: SocketModeClient, terminated: bool = False) -> None:
        self._client = client
        self._terminated = terminated

    @property  # type: ignore[override]
    def terminated(self) -> bool:
        return self._terminated or bool(self._client.closed)

    @terminated.setter
    def terminated(self, value: bool) -> None:
        self._terminated = value


def _shut_then_close(close: Callable[[], None], link: Any) -> None:
    _shut_down(link)
    close()


def _shut_down(link: Any) -> None:
    """Wake a reader blocked in ``recv`` on ``link`` (it gets end of file)."""
    sock = getattr(link, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class SocketMode:
    def __init__(self, app: App, app_token: str, *, ping_interval: float = 10) -> None:
        self._handler = _ObservedHandler(app, app_token, ping_interval=ping_interval)
        self._handler.client.__class__ = _PromptRefreshClient

    def connect(self) -> SocketMode:
        """Open the connection (``apps.connections.open`` first); returns at once."""
        self._handler.connect()
        return self

    @property
    def connected(self) -> bool:
        return self._handler.client.is_connected()

    def close(self) -> None:
        """Stop receiving envelopes; those not acked yet are redelivered by Slack.

        slack_sdk's own close waits for two threads that each wait on a timeout: the reader
        holds its receive lock in ``recv`` (up to 3 s) and the dispatcher waits for a
        message (up to 1 s), so every stop took up to 4 s for nothing. Both are woken first
        (the socket shut down, an empty message queued), with reconnecting off so the shut
        socket is not taken for a dropped link."""
        client = self._handler.client
        client.closed = True
        client.auto_reconnect_enabled = False
        client.message_queue.put(None)
        _shut_down(client.current_session)
        self._handler.close()
