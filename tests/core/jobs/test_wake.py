"""Workers woken at once: a job queued on PostgreSQL is claimed on its NOTIFY, not at the
next poll; interactive kinds run on a lane of their own, beside long work."""

from __future__ import annotations

import threading

import pytest

from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import INTERACTIVE, JobSpec, enqueue
from stockpot.core.jobs.worker import FunctionHandler, Worker
from stockpot.core.models import Company, JobKind
from stockpot.core.settings import Settings

NEVER = 3600.0
"""A poll interval no test outlives: whatever runs was woken."""


def company(database) -> int:
    with unit_of_work(database.factory) as session:
        found = Company(name="Wake Test")
        session.add(found)
        session.flush()
        return found.id


def queue_job(database, company_id: int, kind: JobKind) -> int:
    with unit_of_work(database.factory) as session:
        return enqueue(session, JobSpec(kind, company_id, priority=INTERACTIVE)).job_id


def running(worker: Worker):
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_a_listening_worker_claims_a_new_job_on_its_notify(database):
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite wakes its in-process worker")
    company_id = company(database)
    ran = threading.Event()
    handlers = {JobKind.REPORT: FunctionHandler(lambda context: ran.set())}
    worker = Worker(
        database.factory, Settings.from_variables(STOCKPOT_WORKER_POLL_SECONDS=NEVER), handlers
    )
    stop, thread = running(worker)
    try:
        assert worker.listening.wait(10)
        queue_job(database, company_id, JobKind.REPORT)
        # The worker polls once an hour: only the notification can have woken it.
        assert ran.wait(10)
    finally:
        stop.set()
        worker.wake()
        thread.join(10)
    assert not thread.is_alive()


def test_without_listen_the_worker_waits_for_its_poll(database):
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    settings = Settings.from_variables(STOCKPOT_WORKER_POLL_SECONDS=NEVER, STOCKPOT_LISTEN=False)
    worker = Worker(database.factory, settings, {JobKind.REPORT: FunctionHandler(lambda c: None)})
    stop, thread = running(worker)
    try:
        assert not worker.listening.wait(0.5)
    finally:
        stop.set()
        worker.wake()
        thread.join(10)


def test_answers_run_beside_long_work_on_a_lane_of_their_own(database):
    """Every job thread held by long work: an answer still runs (on the answer lane)."""
    company_id = company(database)
    release, long_started, long_done = threading.Event(), threading.Event(), threading.Event()
    answered = threading.Event()

    def long_work(context):
        long_started.set()
        release.wait(30)
        long_done.set()

    handlers = {
        JobKind.MIGRATION: FunctionHandler(long_work),
        JobKind.ANSWER: FunctionHandler(lambda context: answered.set()),
    }
    settings = Settings.from_variables(STOCKPOT_WORKER_THREADS=1, STOCKPOT_WORKER_POLL_SECONDS=0.05)
    worker = Worker(database.factory, settings, handlers, interactive=[JobKind.ANSWER])
    stop, thread = running(worker)
    try:
        queue_job(database, company_id, JobKind.MIGRATION)
        assert long_started.wait(10)
        queue_job(database, company_id, JobKind.ANSWER)
        worker.wake()
        assert answered.wait(10)
        assert not long_done.is_set()  # the long job still holds the only job thread
    finally:
        release.set()
        stop.set()
        worker.wake()
        thread.join(10)
