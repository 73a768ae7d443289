"""A worker's LISTEN connection down: said when it starts, then at growing intervals, and
once when it is back; not every 5 s for as long as it lasts (an hour's outage was 720 lines)."""

from __future__ import annotations

import logging
import threading

import psycopg
import pytest

from stockpot.core.db import libpq_url
from stockpot.core.jobs.listen import JobListener, ListenTarget
from stockpot.core.outage import Outage, lasted


class Clock:
    """Seconds that pass only when read: ``step`` per reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        return now


def test_an_outage_is_said_when_it_starts_then_less_and_less_often_and_when_it_ends():
    clock = Clock()
    outage = Outage(clock)
    said = []
    for second in range(0, 3600, 5):  # an hour of attempts, one every 5 s
        clock.now = second
        lasting = outage.failed()
        if lasting is not None:
            said.append(lasting)
    # When it starts; after 1 min; 5 min later; then every 15 min.
    assert said == [0, 60, 360, 1260, 2160, 3060]
    clock.now = 3605
    assert lasted(outage.recovered()) == "1 h"
    assert outage.recovered() is None, "said once"
    clock.now = 4000
    assert outage.failed() == 0, "the next outage is said when it starts"


def test_durations_read_as_people_say_them():
    assert [lasted(s) for s in (12, 59.9, 180, 3599, 7500)] == [
        "12 s",
        "59 s",
        "3 min",
        "59 min",
        "2 h 5 min",
    ]


def test_a_listen_connection_down_for_20_minutes_is_said_three_times_without_its_url(caplog):
    """Nothing answers on the URL's port: each attempt fails at once. The clock moves 5 s
    per attempt (as ``RECONNECT_SECONDS`` would) and stops the listener after 20 min."""
    target = ListenTarget("postgresql://stockpot:s3cret-pw@127.0.0.1:1/db", "DATABASE_URL")
    stop, listening = threading.Event(), threading.Event()

    class Twenty(Clock):
        def __call__(self) -> float:
            now = super().__call__()
            if now >= 20 * 60:
                stop.set()
            return now

    listener = JobListener(
        target, lambda _: None, stop, listening, outage=Outage(Twenty(5)), reconnect_seconds=0
    )
    with caplog.at_level(logging.INFO, logger="stockpot.core.jobs.listen"):
        listener._run()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    first, again, later = said
    assert first.startswith("LISTEN for new jobs on DATABASE_URL failed (OperationalError)")
    assert "jobs still run, found at each poll" in first  # what still works
    assert "still failing after 1 min" in again and "still failing after 6 min" in later
    assert not any("s3cret" in line or "127.0.0.1" in line for line in said)
    assert not listening.is_set()


class Said(logging.Handler):
    """Sets ``back`` when the listener says it is back."""

    def __init__(self) -> None:
        super().__init__()
        self.back = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "is back after" in record.getMessage():
            self.back.set()


@pytest.mark.postgresql_only
def test_a_dropped_listen_connection_is_said_once_and_again_once_it_is_back(database, caplog):
    """The server ends the listening session (a restart, a failover): one line when it
    drops, one when the listener listens again, with how long it took."""
    listening, stop = threading.Event(), threading.Event()
    target = ListenTarget(database.url, "DATABASE_URL")
    listener = JobListener(target, lambda _: None, stop, listening, reconnect_seconds=0)
    said = Said()
    logger = logging.getLogger("stockpot.core.jobs.listen")
    logger.addHandler(said)
    try:
        with caplog.at_level(logging.INFO, logger="stockpot.core.jobs.listen"):
            listener.start()
            assert listening.wait(10)
            with psycopg.connect(libpq_url(database.url), autocommit=True) as admin:
                ended = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = 'LISTEN stockpot_jobs'"
                    " AND pid <> pg_backend_pid()"
                ).fetchall()
            assert ended == [(True,)]
            assert said.back.wait(10)
    finally:
        stop.set()
        listener.join(10)
        logger.removeHandler(said)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("LISTEN for new jobs on DATABASE_URL failed (")
    assert lines[1].startswith("LISTEN for new jobs on DATABASE_URL is back after ")
