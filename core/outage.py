"""When to tell the operator that something stays down: once when it starts, again after
growing intervals (1 min, then 5 min, then every 15 min), and once when it is back, with
how long it lasted. A loop that retries every few seconds would otherwise log a line per
attempt for as long as the outage lasts, burying everything else in the log.

The rule lives here, once; the caller says what is down and what still works. The clock
is injectable so the rule can be driven in tests without waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import exc

SAY_AGAIN_AFTER: tuple[float, ...] = (60.0, 300.0, 900.0)
"""Seconds after each report of an ongoing outage before the next one; the last repeats."""


class Outage:
    """One thing that can be down (the LISTEN connection of a worker, say)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        again_after: Sequence[float] = SAY_AGAIN_AFTER,
    ) -> None:
        if not again_after:
            raise ValueError("again_after needs at least one interval")
        self._clock = clock
        self._again_after = tuple(again_after)
        self._since: float | None = None
        self._next_say = 0.0
        self._said = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self) -> float | None:
        """An attempt failed. When the outage is to be said now: how long it has lasted in
        seconds (0 when it starts here); ``None`` when it is not (it was said recently)."""
        now = self._clock()
        if self._since is None:
            self._since, self._said = now, 0
            self._next_say = now + self._again_after[0]
            return 0.0
        if now < self._next_say:
            return None
        self._said += 1
        self._next_say = now + self._again_after[min(self._said, len(self._again_after) - 1)]
        return now - self._since

    def recovered(self) -> float | None:
        """An attempt worked: how long the outage lasted (to be said once), or ``None``
        when there was none."""
        if self._since is None:
            return None
        lasted = self._clock() - self._since
        self._since = None
        return lasted


def lasted(seconds: float) -> str:
    """An outage's length for people: ``12 s``, ``3 min``, ``2 h 5 min``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


UNREACHABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)
"""The database did not answer: a refused or lost connection, a server shutting down, no
connection free in the pool, a lock not granted in time. Trying again later can help; a
traceback cannot (a constraint or a statement error is a bug, and not one of these)."""


def database_unreachable(error: BaseException) -> BaseException | None:
    """The error in ``error`` or its causes (``raise … from``) that says the database did not
    answer (``UNREACHABLE``), or ``None``: a failed transfer carries it as its cause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UNREACHABLE):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def described(error: BaseException) -> str:
    """The driver's error in one line (``OperationalError: connection failed: …``): its
    type and first line, never SQLAlchemy's statement or its link to the docs."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    first = lines[0][:200] if lines else ""
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


class DatabaseOutage:
    """A worker process that cannot reach the database: its claim lanes, its heartbeat and
    its lease renewals each fail every few seconds for as long as it lasts, and each logged
    a warning with a traceback every time (1,200 lines for a 15 s restart of PostgreSQL).
    They report here instead: one warning when it starts (with the driver's error), again
    by ``Outage``'s rule, and once when it is back; every attempt's traceback at DEBUG."""

    def __init__(self, log: logging.Logger, worker_id: str, outage: Outage | None = None) -> None:
        self._log = log
        self._worker_id = worker_id
        self._outage = outage or Outage()
        self._lock = threading.Lock()

    def failed(self, doing: str, error: BaseException) -> None:
        """An attempt to ``doing`` (``claim jobs``) met ``error``."""
        self._log.debug("could not reach the database to %s", doing, exc_info=error)
        with self._lock:
            lasting = self._outage.failed()
        if lasting == 0:
            self._log.warning(
                "worker %s cannot reach the database (%s; trying to %s): it claims no job "
                "and records no heartbeat until it answers, and tries again every few "
                "seconds; said again after 1 min, then less often, and when it is back",
                self._worker_id,
                described(error),
                doing,
            )
        elif lasting is not None:
            self._log.warning(
                "worker %s still cannot reach the database after %s (%s)",
                self._worker_id,
                lasted(lasting),
                described(error),
            )

    def recovered(self) -> None:
        """An attempt reached the database."""
        with self._lock:
            lasting = self._outage.recovered()
        if lasting is not None:
            self._log.warning(
                "worker %s reaches the database again after %s", self._worker_id, lasted(lasting)
            )
