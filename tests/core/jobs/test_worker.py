"""What the worker makes of each way a job can end."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.errors import TRIED_AGAIN, ValidationFailed
from stockpot.core.jobs.queue import JobSpec, enqueue
from stockpot.core.jobs.worker import JobContext, JobHandler, Worker
from stockpot.core.models import Company, Job, JobKind, JobState
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosUnavailable
from stockpot.core.settings import Settings


class Scripted(JobHandler):
    """Raises the scripted errors in turn, then succeeds; remembers what it was told."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.runs = 0
        self.told: list[str] = []
        self.cancelled_jobs: list[int] = []

    def run(self, context: JobContext) -> dict:
        self.runs += 1
        context.checkpoint()
        if self.errors:
            raise self.errors.pop(0)
        return {"runs": self.runs}

    def failed(self, context, telling):
        self.told.append(telling.reason)

    def cancelled(self, context, telling):
        self.cancelled_jobs.append(context.job.id)


@pytest.fixture
def queued(database):
    with unit_of_work(database.factory) as session:
        company = Company(name="Worker Test")
        session.add(company)
        session.flush()
        job_id = enqueue(
            session, JobSpec(kind=JobKind.SYNC, company_id=company.id, max_attempts=3)
        ).job_id
    return job_id


def worker(database, handler: JobHandler, worker_id: str = "w", **settings) -> Worker:
    values = {"STOCKPOT_JOB_RETRY_SECONDS": 0, "STOCKPOT_DAY_OPEN_RETRY_SECONDS": 0, **settings}
    return Worker(
        database.factory,
        Settings.from_variables(**values),
        {JobKind.SYNC: handler},
        worker_id=worker_id,
    )


def job(database, job_id: int) -> Job:
    with database.session() as session:
        return session.get_one(Job, job_id)


def test_a_transient_failure_is_retried_until_it_succeeds(database, queued):
    handler = Scripted(PosUnavailable("SIDES answered 503"), OperationalError("x", {}, None))
    assert worker(database, handler).run_until_idle() == 3
    done = job(database, queued)
    assert (done.state, done.attempts, done.result) == (JobState.SUCCEEDED, 3, {"runs": 3})
    assert handler.told == [], "a failure is told when no attempt is left, not at each retry"


def test_transient_failures_stop_at_the_attempt_limit(database, queued):
    handler = Scripted(*(PosUnavailable("down") for _ in range(5)))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert (failed.state, failed.attempts, failed.last_error) == (JobState.FAILED, 3, "down")
    assert handler.told == ["down"]


def test_a_permanent_failure_fails_at_once_with_its_message(database, queued):
    handler = Scripted(PosAuthError("SIDES refused the sign-in: update the credentials"))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert failed.state is JobState.FAILED and failed.attempts == 1
    assert handler.told == ["SIDES refused the sign-in: update the credentials"]


def test_an_unforeseen_error_is_retried_and_named_without_its_details(database, queued):
    handler = Scripted(KeyError("secret detail"), KeyError("secret detail"), KeyError("x"))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert failed.state is JobState.FAILED
    assert failed.last_error.startswith("an unexpected error (KeyError)")
    assert "secret" not in failed.last_error


def test_an_open_day_waits_without_using_attempts(database, queued):
    handler = Scripted(*(DayNotComplete("the day is not closed yet") for _ in range(4)))
    assert worker(database, handler).run_until_idle() == 5
    done = job(database, queued)
    assert done.state is JobState.SUCCEEDED and done.attempts == 1
    assert handler.told == []


def test_an_open_day_waits_until_the_next_ask(database, queued):
    handler = Scripted(DayNotComplete("not closed"))
    assert worker(database, handler, STOCKPOT_DAY_OPEN_RETRY_SECONDS=1800).run_until_idle() == 1
    waiting = job(database, queued)
    assert waiting.state is JobState.QUEUED and waiting.attempts == 0
    assert waiting.run_after - waiting.created_at >= timedelta(minutes=29)


def test_a_cancelled_job_stops_at_its_checkpoint(database, queued):
    with unit_of_work(database.factory) as session:
        session.get_one(Job, queued).state = JobState.RUNNING
        session.get_one(Job, queued).worker_id = "w"
    handler = Scripted(ValidationFailed("never reached"))
    runner = worker(database, handler)
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.cancel_requested = JobState.QUEUED, True
    runner.run_until_idle()
    assert job(database, queued).state is JobState.CANCELED
    assert handler.cancelled_jobs == [queued]


class Drain:
    """``run_until_idle(wait_for_others=True)`` on a thread of its own, as a test's drain
    runs beside the worker's lanes. ``decided`` is set once it returned or looked at the
    jobs again: seen through SQLAlchemy's events, a drain that returns reads the ``job``
    table twice (its claim finds nothing, nothing is running), one that waits reads it
    more. ``told``: what the handler had told when the drain returned."""

    def __init__(self, database, runner: Worker, handler: Scripted) -> None:
        self.engine = database.engine
        self.runner = runner
        self.handler = handler
        self.decided = threading.Event()
        self.told: list[str] | None = None
        self.reads = 0
        self.thread = threading.Thread(target=self._drain)

    def start(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._read)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(30)
        event.remove(self.engine, "before_cursor_execute", self._read)
        assert not self.thread.is_alive(), "the drain returned"

    def _read(self, connection, cursor, statement, *args) -> None:
        if threading.current_thread() is self.thread and re.search(r"\bjob\b", statement):
            self.reads += 1
            if self.reads > 3:
                self.decided.set()

    def _drain(self) -> None:
        try:
            self.runner.run_until_idle(wait_for_others=True)
            self.told = list(self.handler.told)
        finally:
            self.decided.set()


def test_a_drain_waits_until_a_failure_is_told_not_only_recorded(database, queued):
    """The flake of tests/bot/test_file_owners.py: a job is recorded failed, then its handler
    tells whoever waits (a CSV import's refusal replaces its "Importing…"). A drain that
    looked in between found nothing running or due and returned before the refusal was
    said."""

    class Telling(Scripted):
        def failed(self, context, telling):
            drain.start()  # the job is recorded failed; the drain looks now
            assert drain.decided.wait(30), "the drain returned or looked again"
            super().failed(context, telling)

    handler = Telling(ValidationFailed("the file was not shared here"))
    runner = worker(database, handler, STOCKPOT_WORKER_POLL_SECONDS=0.01)
    drain = Drain(database, runner, handler)
    assert runner.run_one()
    drain.join()
    assert drain.told == ["the file was not shared here"], "told before it returned"


def test_a_pos_away_at_the_last_attempt_is_told_without_promising_another(database, queued):
    """A POS away at every attempt: the failure told at the last said "…; it will be tried
    again" beside Retry, of a job that had no attempt left and was not tried again."""
    away = f"SIDES did not answer (ConnectTimeout: timed out){TRIED_AGAIN}"
    handler = Scripted(*(PosUnavailable(away) for _ in range(3)))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert (failed.state, failed.attempts) == (JobState.FAILED, 3)
    assert handler.told == ["SIDES did not answer (ConnectTimeout: timed out)"]


def test_a_database_outage_at_the_last_attempt_is_told_without_promising_another(database, queued):
    """Each attempt met the outage: the failure told said "the job will be tried again",
    of a job that had no attempt left and was not."""
    handler = Scripted(*(OperationalError("x", {}, None) for _ in range(3)))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert (failed.state, failed.attempts) == (JobState.FAILED, 3)
    assert handler.told == [
        "the database could not be reached at the last of its 3 attempts; "
        "try the job again once the database is back"
    ]
    assert failed.last_error == handler.told[0]


class Effecting(JobHandler):
    """Each run renews its lease (a checkpoint) before its one effect, as handlers do; the
    first waits for ``go`` before it: an attempt whose worker lags past its lease."""

    def __init__(self) -> None:
        self.started, self.go = threading.Event(), threading.Event()
        self.effects: list[int] = []

    def run(self, context: JobContext) -> dict:
        if not self.started.is_set():
            self.started.set()
            assert self.go.wait(30)
        context.checkpoint()
        self.effects.append(context.job.claim)
        return {"claim": context.job.claim}


def test_a_job_claimed_again_by_its_own_worker_runs_once(database, queued):
    """Worker w's attempt lags past its lease (the lease is set in the past: no waiting)
    and w claims the job again on another thread (a second ``Worker`` of the same id: the
    first's own threads skip the jobs it runs). The second claim runs and records the job
    done; the first attempt's renewal is refused, so it stops before its effect, and its
    end records nothing: one effect, the second claim's."""
    handler = Effecting()
    first = worker(database, handler)
    lagging = threading.Thread(target=first.run_one)
    lagging.start()
    assert handler.started.wait(30)
    with unit_of_work(database.factory) as session:
        session.get_one(Job, queued).lease_expires_at = utcnow() - timedelta(seconds=1)
    assert not first.run_one(), "its own thread does not claim the job it runs"
    assert worker(database, handler).run_one(), "the same worker id claims it again"
    handler.go.set()
    lagging.join(30)
    done = job(database, queued)
    assert handler.effects == [2], "only the second claim's effect"
    assert (done.state, done.attempts, done.claims, done.result) == (
        JobState.SUCCEEDED,
        2,
        2,
        {"claim": 2},
    )
