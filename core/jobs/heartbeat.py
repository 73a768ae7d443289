"""A worker's heartbeat: a row it touches every few seconds while it runs.

Readiness (``/readyz``) and ``stockpot check`` read the newest beat; the queue's leases, not
the heartbeat, decide when a dead worker's job is taken over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.models import WorkerHeartbeat
from stockpot.core.outage import DatabaseOutage

log = logging.getLogger(__name__)


def beat(factory: sessionmaker[Session], worker_id: str, *, threads: int, running: int) -> None:
    now = utcnow()
    with unit_of_work(factory) as session:
        touched = session.execute(
            update(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker_id == worker_id)
            .values(beat_at=now, running=running)
        ).rowcount
        if not touched:
            session.add(
                WorkerHeartbeat(
                    worker_id=worker_id,
                    started_at=now,
                    beat_at=now,
                    threads=threads,
                    running=running,
                )
            )


def forget(factory: sessionmaker[Session], worker_id: str) -> None:
    """A worker that stops cleanly leaves no stale beat behind."""
    with unit_of_work(factory) as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))


def latest(session: Session) -> datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


class HeartbeatThread:
    """Beats every ``every`` seconds until stopped; a database that is away is logged and
    tried again at the next beat (the worker's jobs have their own leases)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        worker_id: str,
        every: float,
        *,
        threads: int,
        running: Callable[[], int],
        outage: DatabaseOutage | None = None,
    ) -> None:
        self._factory = factory
        self._outage = outage or DatabaseOutage(log, worker_id)
        self._worker_id = worker_id
        self._every = every
        self._threads = threads
        self._running = running
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stockpot-heartbeat", daemon=True)

    def __enter__(self) -> HeartbeatThread:
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            forget(self._factory, self._worker_id)
        except SQLAlchemyError:
            log.warning("could not remove the heartbeat of %s", self._worker_id, exc_info=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self._beat()

    def _beat(self) -> None:
        try:
            beat(self._factory, self._worker_id, threads=self._threads, running=self._running())
        except SQLAlchemyError as error:
            self._outage.failed("record its heartbeat", error)
        else:
            self._outage.recovered()
