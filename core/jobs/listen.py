"""Waking workers at once: PostgreSQL LISTEN/NOTIFY.

Every enqueue NOTIFYs ``stockpot_jobs`` in its own transaction (``queue.notify_workers``);
a worker process keeps one connection that LISTENs and wakes its claim loops on each
notification, so a Slack answer or a transfer asked for is claimed within milliseconds
instead of at the next poll. Polling stays underneath: a notification lost (the listening
connection dropped, or a job made due by time) is found at the next poll anyway.

LISTEN needs a session of its own on the server. Behind PgBouncer in transaction pooling the
server connection goes back to the pool after each statement and notifications are lost, so
there ``STOCKPOT_LISTEN_URL`` names a direct connection to PostgreSQL (or ``STOCKPOT_LISTEN=
false`` leaves the workers polling every ``STOCKPOT_WORKER_POLL_SECONDS``). NOTIFY itself works
through the pooler.

Listening through such a pooler fails silently, so a worker first checks that a NOTIFY
reaches a LISTEN on its URL (``notifications_arrive``); when it does not, it says so once, at
WARNING, and polls instead of listening (``stockpot check`` runs the same probe). Comparing
``pg_backend_pid()`` across two transactions does not tell: PgBouncer hands an idle pool's
most recently released server connection out again (LIFO), so both report the same pid.
"""

from __future__ import annotations

import logging
import secrets
import select
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from stockpot.core.db import libpq_url
from stockpot.core.jobs.queue import CHANNEL
from stockpot.core.outage import Outage, lasted
from stockpot.core.settings import Settings

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0

LOOK_SECONDS = 0.5
"""How often a listener waiting for notifications looks at its ``stop`` of its own accord;
``JobListener.join`` wakes it at once."""

PROBE_SECONDS = 3.0
"""How long a probe NOTIFY may take to arrive: on a direct connection it takes milliseconds."""


@dataclass(frozen=True)
class ListenTarget:
    """Where a worker LISTENs, and the setting that says so (for messages: never the URL,
    which may hold a password)."""

    url: str
    setting: str


def listen_target(settings: Settings, database_url: URL) -> ListenTarget | None:
    """``STOCKPOT_LISTEN_URL``, else the database's own URL; ``None`` when workers only poll
    (``STOCKPOT_LISTEN=false``, or a database other than PostgreSQL)."""
    if not settings.listen or database_url.get_backend_name() != "postgresql":
        return None
    if settings.listen_url is not None:
        return ListenTarget(settings.listen_url.get_secret_value(), "STOCKPOT_LISTEN_URL")
    return ListenTarget(database_url.render_as_string(hide_password=False), "DATABASE_URL")


def notifications_arrive(url: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether a NOTIFY sent on ``url`` reaches a connection that LISTENs on ``url``, within
    ``timeout`` seconds: never through a pooler in transaction pooling, which hands the
    listening server connection back to its pool. A channel of the probe's own: no worker
    is woken by it. Raises ``psycopg.Error`` when ``url`` cannot be reached."""
    channel = f"stockpot_probe_{secrets.token_hex(8)}"
    plain = libpq_url(url)
    with psycopg.connect(
        plain, autocommit=True, connect_timeout=5, prepare_threshold=None
    ) as listening:
        listening.execute(f"LISTEN {channel}")
        with psycopg.connect(
            plain, autocommit=True, connect_timeout=5, prepare_threshold=None
        ) as sender:
            sender.execute("SELECT pg_notify(%s, '')", (channel,))
        return any(True for _ in listening.notifies(timeout=timeout, stop_after=1))


def pooled_problem(setting: str, probe_seconds: float = PROBE_SECONDS) -> str:
    """What is wrong, and why, when ``notifications_arrive`` says no (having waited
    ``probe_seconds``)."""
    return (
        f"workers cannot LISTEN for new jobs on {setting}: a NOTIFY sent there did not arrive "
        f"within {probe_seconds:g} s, so it goes through a connection pooler in transaction "
        "pooling (PgBouncer), which hands the listening connection back to its pool after each "
        "transaction; notifications then land on pooled server connections, wake no worker "
        "and can stall the pooler"
    )


POOLED_FIX = (
    "set STOCKPOT_LISTEN_URL to a direct connection to PostgreSQL (not through the pooler), "
    "or STOCKPOT_LISTEN=false to poll on purpose"
)


class JobListener:
    """A thread that LISTENs on ``url`` and calls ``wake`` (with the payload) on every
    notification until ``stop`` is set; a lost connection is reopened every
    ``reconnect_seconds`` (polling covers the gap). The outage is logged by ``Outage``'s
    rule (when it starts, then at growing intervals, and once when it is back), not at
    every attempt; ``outage`` takes a clock of its own in tests. Before listening, it checks
    that a NOTIFY arrives within ``probe_seconds`` (``notifications_arrive``)."""

    def __init__(
        self,
        target: ListenTarget,
        wake: Callable[[str], None],
        stop: threading.Event,
        listening: threading.Event,
        *,
        outage: Outage | None = None,
        reconnect_seconds: float = RECONNECT_SECONDS,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        self._target = target
        self._wake = wake
        self._stop = stop
        self.listening = listening
        """Set while the connection listens."""
        self._outage = outage or Outage()
        self._reconnect_seconds = reconnect_seconds
        self._probe_seconds = probe_seconds
        self._thread = threading.Thread(target=self._run, name="stockpot-listen", daemon=True)
        self._woken, self._waking = socket.socketpair()
        """``join`` writes to ``_waking``: the wait for notifications ends at once."""
        self._woken.setblocking(False)
        self._waking.setblocking(False)

    def start(self) -> JobListener:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end once ``stop`` is set: it is woken from its wait for
        notifications now, not at its next look (``LOOK_SECONDS``)."""
        with suppress(OSError):  # already woken (the buffer is full), or closed
            self._waking.send(b"\0")
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._woken.close()
            self._waking.close()

    def _run(self) -> None:
        probed = False
        while not self._stop.is_set():
            try:
                if not probed:
                    if not notifications_arrive(self._target.url, self._probe_seconds):
                        log.warning(
                            "%s; they poll instead (every STOCKPOT_WORKER_POLL_SECONDS). Fix: %s",
                            pooled_problem(self._target.setting, self._probe_seconds),
                            POOLED_FIX,
                        )
                        return
                    probed = True
                self._listen()
            except (ValueError, ArgumentError):  # never the URL: its password may show
                log.warning(
                    "%s does not read as a PostgreSQL URL (postgresql://user:password@host:port"
                    "/db); workers poll instead (every STOCKPOT_WORKER_POLL_SECONDS)",
                    self._target.setting,
                )
                return
            except psycopg.Error as error:
                self.listening.clear()
                self._down(type(error).__name__)
                self._stop.wait(self._reconnect_seconds)
        self.listening.clear()

    def _down(self, error: str) -> None:
        """An attempt to listen failed (``error``: the exception's type name only, never its
        text, which may name the host). Said when ``Outage`` says so: never the URL."""
        setting = self._target.setting
        lasting = self._outage.failed()
        if lasting == 0:
            log.warning(
                "LISTEN for new jobs on %s failed (%s): workers are not woken at once when a "
                "job is queued; jobs still run, found at each poll (every "
                "STOCKPOT_WORKER_POLL_SECONDS). Reconnecting every %g s; said again after "
                "1 min, then less often, and when it is back",
                setting,
                error,
                self._reconnect_seconds,
            )
        elif lasting is not None:
            log.warning(
                "LISTEN for new jobs on %s still failing after %s (%s); jobs still run at "
                "each poll",
                setting,
                lasted(lasting),
                error,
            )

    def _up(self) -> None:
        lasting = self._outage.recovered()
        if lasting is not None:
            log.warning(
                "LISTEN for new jobs on %s is back after %s; workers are woken at once again",
                self._target.setting,
                lasted(lasting),
            )

    def _listen(self) -> None:
        url = libpq_url(self._target.url)
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._up()
            self._wake("")  # whatever was queued before we listened
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=0):  # those arrived: no wait
                    self._wake(notice.payload)
                woken, _, _ = select.select(
                    [connection.fileno(), self._woken], [], [], LOOK_SECONDS
                )
                if self._woken in woken:
                    with suppress(BlockingIOError):
                        self._woken.recv(64)
