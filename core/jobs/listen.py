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
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from stockpot.core.db import libpq_url
from stockpot.core.jobs.queue import CHANNEL

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0


class JobListener:
    """A thread that LISTENs on ``url`` and calls ``wake`` (with the payload) on every
    notification until
    ``stop`` is set; a lost connection is reopened after ``RECONNECT_SECONDS`` (polling
    covers the gap)."""

    def __init__(
        self,
        url: str,
        wake: Callable[[str], None],
        stop: threading.Event,
        listening: threading.Event,
    ) -> None:
        self._url = libpq_url(url)
        self._wake = wake
        self._stop = stop
        self.listening = listening
        """Set while the connection listens."""
        self._thread = threading.Thread(target=self._run, name="stockpot-listen", daemon=True)

    def start(self) -> JobListener:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                self.listening.clear()
                log.warning(
                    "LISTEN for new jobs failed (%s); polling until it is back",
                    type(error).__name__,
                )
                self._stop.wait(RECONNECT_SECONDS)
        self.listening.clear()

    def _listen(self) -> None:
        with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._wake("")  # whatever was queued before we listened
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=0.5):
                    self._wake(notice.payload)
