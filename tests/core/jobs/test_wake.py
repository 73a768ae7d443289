"""Workers woken at once: a job queued on PostgreSQL is claimed on its NOTIFY, not at the
next poll; interactive kinds run on a lane of their own, beside long work."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from stockpot.core.access import link_workspace
from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import (
    ACKING,
    CHANNEL,
    INTERACTIVE,
    JobSpec,
    enqueue,
    release,
    requeue,
    requeued,
)
from stockpot.core.jobs.runtime import AnswerWanted, JobRuntime
from stockpot.core.jobs.worker import AckBursts, FunctionHandler, Worker
from stockpot.core.models import Company, Job, JobKind, JobState
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


def test_a_worker_holds_its_claims_while_a_web_process_acks_a_burst():
    """Notices of a burst (``ACKING``) hold claims until ``HOLD_S`` after the last one, and
    never longer than ``LONGEST_S`` in a row; other notifications hold nothing. (The clock
    is given: the rule, not the machine's speed, is under test.)"""
    now = [100.0]
    bursts = AckBursts(clock=lambda: now[0])
    assert bursts.hold() == 0.0
    bursts.seen()
    assert bursts.hold() == pytest.approx(AckBursts.HOLD_S)
    now[0] += AckBursts.HOLD_S / 2
    assert bursts.hold() == pytest.approx(AckBursts.HOLD_S / 2)
    now[0] += AckBursts.HOLD_S
    assert bursts.hold() == 0.0, "the burst is over"
    for _ in range(int(AckBursts.LONGEST_S / (AckBursts.HOLD_S / 2)) + 2):
        bursts.seen()  # a flood with no pause
        now[0] += AckBursts.HOLD_S / 2
    bursts.seen()
    assert bursts.hold() == 0.0, "a hold never lasts longer than LONGEST_S"
    now[0] += AckBursts.HOLD_S * 2
    bursts.seen()
    assert bursts.hold() == pytest.approx(AckBursts.HOLD_S), "after a pause, a new burst"


def test_queueing_a_burst_of_answers_tells_the_workers(database):
    """The web process's notification of a burst carries ``ACKING``, which holds a
    listening worker's claims; answers queued one by one wake it as before."""
    import psycopg

    from stockpot.core.db import libpq_url

    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite's worker is told in-process")
    company_id = company(database)
    with unit_of_work(database.factory) as session:
        link_workspace(session, "T1", session.get_one(Company, company_id), "U1")
    runtime = JobRuntime(database.factory)

    def wanted(number: int) -> AnswerWanted:
        return AnswerWanted({"command": "/pos"}, "T1", None, f"/pos:{number}")

    with psycopg.connect(libpq_url(database.url), autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        runtime.answer_all_later([wanted(1)])
        runtime.answer_all_later([wanted(2), wanted(3), wanted(4), wanted(5)], burst=True)
        notices = [notice.payload for notice in listening.notifies(timeout=5, stop_after=2)]
    assert notices == ["", ACKING]
    worker = Worker(database.factory, Settings(), {})
    worker.wake(notices[1])
    assert worker.bursts.hold() > 0


def test_a_listen_url_that_does_not_parse_is_said_once_without_its_password(caplog):
    """STOCKPOT_LISTEN_URL with a typo (its port) is said once, at WARNING, with the setting
    to fix and never the URL (its password), and the worker polls; the ValueError was raised
    where the worker starts its listener, so the worker did not start at all."""
    import logging

    from stockpot.core.jobs.listen import JobListener, ListenTarget

    target = ListenTarget(
        "postgresql://stockpot:s3cret-pw@127.0.0.1:54x2/db", "STOCKPOT_LISTEN_URL"
    )
    stop, listening = threading.Event(), threading.Event()
    with caplog.at_level(logging.WARNING, logger="stockpot.core.jobs.listen"):
        JobListener(target, lambda _: None, stop, listening)._run()  # returns: polls instead
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "STOCKPOT_LISTEN_URL" in said[0], said
    assert "s3cret-pw" not in said[0] and not listening.is_set()


@pytest.mark.parametrize("how", ["button", "command line"])
def test_a_retried_job_is_claimed_on_its_notify(database, how):
    """Retry queues a failed job again: from Slack held until its note is said and then
    released, from ``stockpot jobs retry`` at once. Either way a listening worker is woken;
    it was left to its next poll (an hour here, a second by default)."""
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite wakes its in-process worker")
    company_id = company(database)
    job_id = queue_job(database, company_id, JobKind.REPORT)
    with unit_of_work(database.factory) as session:
        session.execute(update(Job).where(Job.id == job_id).values(state=JobState.FAILED))
    ran = threading.Event()
    handlers = {JobKind.REPORT: FunctionHandler(lambda context: ran.set())}
    worker = Worker(
        database.factory, Settings.from_variables(STOCKPOT_WORKER_POLL_SECONDS=NEVER), handlers
    )
    stop, thread = running(worker)
    try:
        assert worker.listening.wait(10)
        with unit_of_work(database.factory) as session:
            if how == "button":
                assert requeued(session, session.get_one(Job, job_id), timedelta(minutes=2))
            else:
                requeue(session, job_id, company_id)
        if how == "button":
            with unit_of_work(database.factory) as session:
                release(session, job_id)
        assert ran.wait(10)
    finally:
        stop.set()
        worker.wake()
        thread.join(10)
    assert not thread.is_alive()
