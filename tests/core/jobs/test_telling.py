"""A job's failure or cancellation is told even when its worker dies between recording it and
telling it: the telling is committed with the failure (``Job.telling``) and the next worker
says it, once, through the handler's own path (its saved message position kept)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError

from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.errors import TRIED_AGAIN, ValidationFailed
from stockpot.core.jobs import queue
from stockpot.core.jobs.heartbeat import beat as beat_now
from stockpot.core.jobs.queue import ClaimedJob
from stockpot.core.jobs.telling import DATABASE_AWAY, TRIES, Undelivered, database_away_at_last
from stockpot.core.jobs.worker import Worker
from stockpot.core.models import Job, JobState
from tests.core.jobs.test_worker import Scripted, job, queued, worker  # noqa: F401

REFUSED = "the file was not shared here"


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs in that worker."""


class Keeping(Scripted):
    """Keeps the ``ts`` of the message it tells in, as ``Notifier.post_once`` does."""

    def failed(self, context, telling):
        super().failed(context, telling)
        context.save(answer_ts=f"ts-{len(self.told)}")

    def cancelled(self, context, telling):
        super().cancelled(context, telling)
        context.save(answer_ts="cancelled")


def dies_before_telling(runner: Worker, database) -> None:
    """The worker dies once the end is recorded, before its handler tells it; its lease runs
    out (expired here at once, as a dead worker's does in ``STOCKPOT_JOB_LEASE_SECONDS``)."""

    def hook(claimed: ClaimedJob) -> None:
        with unit_of_work(database.factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == claimed.id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        raise WorkerDied

    runner.before_telling = hook


def test_a_failure_whose_worker_died_before_telling_it_is_told_once_by_the_next(database, queued):
    handler = Keeping(ValidationFailed(REFUSED))
    dying = worker(database, handler)
    dies_before_telling(dying, database)
    with pytest.raises(WorkerDied):
        dying.run_until_idle()
    owed = job(database, queued)
    assert (owed.state, owed.last_error, handler.told) == (JobState.FAILED, REFUSED, [])
    assert owed.telling == {"reason": REFUSED, "cancelled": False, "facts": {}}

    nxt = worker(database, handler, worker_id="next")
    assert nxt.run_until_idle(wait_for_others=True) == 1
    assert handler.told == [REFUSED] and handler.runs == 1, "told, not run again"
    told = job(database, queued)
    assert (told.state, told.telling, told.result) == (JobState.FAILED, None, {"answer_ts": "ts-1"})
    assert nxt.run_until_idle() == 0 and handler.told == [REFUSED], "told once"


def test_a_cancellation_whose_worker_died_before_telling_it_is_told_by_the_next(database, queued):
    with unit_of_work(database.factory) as session:
        session.get_one(Job, queued).cancel_requested = True
    handler = Keeping()
    dying = worker(database, handler)
    dies_before_telling(dying, database)
    with pytest.raises(WorkerDied):
        dying.run_until_idle()
    assert job(database, queued).state is JobState.CANCELED and handler.cancelled_jobs == []
    assert worker(database, handler, worker_id="next").run_until_idle() == 1
    told = job(database, queued)
    assert handler.cancelled_jobs == [queued] and told.telling is None
    assert told.result == {"answer_ts": "cancelled"}


def test_a_failure_is_told_with_its_message_position_kept(database, queued):
    """The handler's ``context.save`` while telling was dropped (the job was no longer
    running): a retry that failed again could not find the message to update."""
    handler = Keeping(ValidationFailed(REFUSED))
    worker(database, handler).run_until_idle()
    failed = job(database, queued)
    assert (failed.telling, failed.result) == (None, {"answer_ts": "ts-1"})


def test_a_retried_job_that_fails_again_tells_again(database, queued):
    handler = Keeping(ValidationFailed(REFUSED), ValidationFailed("refused again"))
    runner = worker(database, handler)
    runner.run_until_idle()
    with unit_of_work(database.factory) as session:
        queue.requeue(session, queued, job(database, queued).company_id)
    runner.run_until_idle()
    assert handler.told == [REFUSED, "refused again"]
    assert job(database, queued).result == {"answer_ts": "ts-2"}


def test_a_job_whose_workers_kept_dying_is_told_it_failed(database, queued):
    """Failed at a claim (every attempt's worker died): nobody ran a handler to say so."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.RUNNING, 3, "dead"
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
    handler = Keeping()
    assert worker(database, handler).run_until_idle() == 1
    assert handler.runs == 0 and len(handler.told) == 1
    assert handler.told == [
        "none of its 3 attempts recorded how it ended: its worker stopped, or did not reach "
        "the database in time to keep the job"
    ]
    assert job(database, queued).telling is None


def test_a_telling_handed_back_by_a_stopping_worker_stays_failed_and_owed(database, queued):
    """A worker told to stop hands back what it claimed meanwhile (``Worker._lane``). A claim
    to tell a failure was handed back like a job to run: queued again, the failed job ran
    once more (its work repeated) before its failure was even told."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.FAILED, 1, "dead"
        row.last_error, row.telling = REFUSED, {"reason": REFUSED}
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
    (claimed,) = queue.claim_many(database.factory, "stopping", timedelta(minutes=5))
    assert claimed.telling is not None
    assert queue.hand_back(database.factory, claimed, dict(claimed.result))
    handed = job(database, queued)
    assert (handed.state, handed.attempts, handed.telling) == (
        JobState.FAILED,
        1,
        {"reason": REFUSED},
    )
    handler = Keeping()
    assert worker(database, handler, worker_id="next").run_until_idle() == 1
    assert (handler.runs, handler.told) == (0, [REFUSED]), "told at once, not run again"


def test_a_job_cancelled_while_queued_is_told_not_run(database, queued):
    """`stockpot jobs cancel` (or a Cancel button) on a queued job ended it at once with no
    telling: "Importing…" or "Trying again…", said when it was queued, stayed for ever. Its
    cancellation is owed as any other, and the next worker tells it."""
    with unit_of_work(database.factory) as session:
        company_id = session.get_one(Job, queued).company_id
        queue.request_cancel(session, queued, company_id)
    handler = Keeping()
    assert worker(database, handler).run_until_idle() == 1
    told = job(database, queued)
    assert handler.cancelled_jobs == [queued] and handler.runs == 0
    assert (told.state, told.telling, told.result) == (
        JobState.CANCELED,
        None,
        {"answer_ts": "cancelled"},
    )


class SlackAway(Keeping):
    """Its telling does not reach Slack the first ``away`` times (``Undelivered``)."""

    def __init__(self, *errors, away: int, may_pass: bool = True) -> None:
        super().__init__(*errors)
        self.away = away
        self.may_pass = may_pass
        self.tries = 0

    def failed(self, context, telling):
        self.tries += 1
        if self.tries <= self.away:
            raise Undelivered("Slack answered service_unavailable", may_pass=self.may_pass)
        super().failed(context, telling)


def finished(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "stockpot_jobs_finished_total", {"kind": "sync", "outcome": outcome}
        )
        or 0.0
    )


def test_a_telling_slack_did_not_take_stays_owed_and_is_told_once_it_is_back(database, queued):
    """Slack away for longer than its client's retries: the failure was logged and its
    telling cleared as if told, so it was never said."""
    handler = SlackAway(ValidationFailed(REFUSED), away=2)
    runner = worker(database, handler)
    assert runner.run_one()
    owed = job(database, queued)
    assert (owed.state, owed.telling) == (
        JobState.FAILED,
        {"reason": REFUSED, "cancelled": False, "facts": {}, "tries": 1},
    ), "still owed, its try counted"
    assert handler.told == []
    told = finished("told")
    runner.run_until_idle(wait_for_others=True)  # STOCKPOT_JOB_RETRY_SECONDS=0: due at once
    assert handler.told == [REFUSED] and handler.tries == 3 and handler.runs == 1
    done = job(database, queued)
    assert (done.telling, done.result) == (None, {"answer_ts": "ts-1"})
    assert finished("told") == told + 1


def test_a_telling_waits_as_a_retried_attempt_does(database, queued):
    handler = SlackAway(ValidationFailed(REFUSED), away=1)
    worker(database, handler, STOCKPOT_JOB_RETRY_SECONDS=600).run_until_idle()
    owed = job(database, queued)
    assert owed.telling is not None
    assert timedelta(minutes=9) < owed.lease_expires_at - utcnow() <= timedelta(minutes=10)
    assert worker(database, handler, worker_id="other").run_until_idle() == 0, "not due yet"


def test_waiting_for_others_does_not_wait_for_a_telling_owed_for_later(database, queued):
    """Owed for later, the telling is held by no worker: ``run_until_idle(wait_for_others)``
    (``stockpot worker --until-idle``) waited for it up to its last try, hours with the
    defaults. It stops; the telling stays owed, and ``owed_later`` says when it is due."""
    handler = SlackAway(ValidationFailed(REFUSED), away=1)
    runner = worker(database, handler, STOCKPOT_JOB_RETRY_SECONDS=600)
    assert runner.run_until_idle(wait_for_others=True) == 1
    owed = job(database, queued)
    assert (owed.telling["tries"], owed.worker_id) == (1, None)
    with database.session() as session:
        assert queue.unfinished_count(session) == 0
        later = queue.owed_later(session)
    assert (later.jobs, later.next_at) == (1, owed.lease_expires_at)
    assert handler.tries == 1 and handler.told == []


@pytest.mark.postgresql_only
def test_waiting_for_others_takes_a_telling_put_off_while_it_counted(database, queued):
    """Another worker puts its telling off until "now" (Slack away, a retry wait of 0) and
    commits just as a drain counts: after the drain read its clock, before its count's
    snapshot. Neither held nor due by that clock, the telling was left unsaid (a bot test's
    drain ended before Slack's retry, and its alert was missing)."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.FAILED, 1, "other"
        row.last_error, row.telling = REFUSED, {"reason": REFUSED}
        row.lease_expires_at = utcnow() + timedelta(minutes=5)  # the other worker tells it
    put_off: list[bool] = []

    def tell_later(conn, cursor, statement, parameters, context, executemany) -> None:
        if not put_off and statement.lstrip().upper().startswith("SELECT COUNT("):
            put_off.append(True)
            with database.engine.begin() as other:
                other.execute(
                    update(Job)
                    .where(Job.id == queued)
                    .values(
                        telling={"reason": REFUSED, "tries": 1},
                        worker_id=None,
                        lease_expires_at=utcnow(),
                    )
                )

    handler = Keeping()
    event.listen(database.engine, "before_cursor_execute", tell_later)
    try:
        told = worker(database, handler).run_until_idle(wait_for_others=True)
    finally:
        event.remove(database.engine, "before_cursor_execute", tell_later)
    assert put_off and told == 1
    assert handler.told == [REFUSED] and job(database, queued).telling is None


def test_a_telling_slack_refuses_for_good_is_not_tried_again_and_logged_once(
    database, queued, caplog
):
    handler = SlackAway(ValidationFailed(REFUSED), away=5, may_pass=False)
    with caplog.at_level(logging.INFO, logger="stockpot.core.jobs"):
        worker(database, handler).run_until_idle(wait_for_others=True)
    assert handler.tries == 1 and handler.told == []
    assert job(database, queued).telling is None
    lines = [r.getMessage() for r in caplog.records if f"job {queued}" in r.getMessage()]
    assert lines == [
        f"job {queued}: how it ended was not told (Slack answered service_unavailable), "
        "not tried again"
    ]


def test_a_telling_slack_never_takes_is_given_up_after_its_tries_in_one_line(
    database, queued, caplog
):
    handler = SlackAway(ValidationFailed(REFUSED), away=TRIES + 1)
    with caplog.at_level(logging.WARNING, logger="stockpot.core.jobs"):
        worker(database, handler).run_until_idle(wait_for_others=True)
    assert handler.tries == TRIES and handler.told == []
    assert job(database, queued).telling is None
    assert [r.getMessage() for r in caplog.records] == [
        f"job {queued}: how it ended was not told (Slack answered service_unavailable), "
        f"the last of {TRIES} tries"
    ]


def test_a_telling_whose_record_did_not_commit_is_not_counted_told(database, queued):
    """The database away while a dead worker's telling was said: counted ``told`` though its
    clear never committed (it is said again)."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.FAILED, 1, "dead"
        row.last_error, row.telling = REFUSED, {"reason": REFUSED}
        row.lease_expires_at = utcnow() - timedelta(seconds=1)

    class DatabaseAway(Keeping):
        def failed(self, context, telling):
            raise OperationalError("UPDATE job", {}, Exception("connection refused"))

    told, owed = finished("told"), finished("owed")
    assert worker(database, DatabaseAway()).run_one()
    assert (finished("told"), finished("owed")) == (told, owed + 1)
    assert job(database, queued).telling == {"reason": REFUSED}, "still owed"


def test_a_job_whose_last_attempt_met_the_database_away_unrecorded_is_failed_saying_so(
    database, queued
):
    """The attempt before met the database away (recorded); the last one met it too, and
    could not record its end either: its lease ran out and the claim failed the job as "its
    worker stopped during each of 3 attempts (last error: … will be tried again)"."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.RUNNING, 3, "cut off"
        row.last_error = DATABASE_AWAY
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
    handler = Keeping()
    assert worker(database, handler).run_until_idle() == 1
    said = database_away_at_last(3)
    assert said.startswith("the database could not be reached at the last of its 3 attempts")
    assert handler.told == [said] and handler.runs == 0
    assert job(database, queued).last_error == said


POS_AWAY = f"SIDES did not answer{TRIED_AGAIN}"


def taken_over(database, queued, holder: str, last_error: str | None) -> None:
    """The job's last attempt ended unrecorded in ``holder``: its lease ran out."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.state, row.attempts, row.worker_id = JobState.RUNNING, 3, holder
        row.last_error = last_error
        row.lease_expires_at = utcnow() - timedelta(seconds=2)


GONE_OR_CUT_OFF = (
    "the last of its 3 attempts ended without a record: its worker stopped, or did not reach "
    "the database in time to keep the job (the attempt before failed: SIDES did not answer)"
)


@pytest.mark.parametrize(("claimer", "beat"), [("w", True), ("other", True), ("other", False)])
def test_a_last_attempt_ended_unrecorded_is_told_alike_whoever_wins_the_claim(
    database, queued, claimer, beat
):
    """The attempts before failed at the POS (recorded, "…; the job will be tried again");
    the last ended unrecorded and its lease ran out. Workers race to claim it: the one that
    held it (alive) was told "the database could not be reached", another after its beat
    the same, another before its beat "its worker stopped": one end, told three ways, and the
    promise of the attempt before repeated in the failure. Now one wording, without it."""
    taken_over(database, queued, "w", POS_AWAY)
    if beat:
        beat_now(database.factory, "w", threads=1, running=0)
    handler = Keeping()
    assert worker(database, handler, worker_id=claimer).run_until_idle() == 1
    assert handler.told == [GONE_OR_CUT_OFF] and handler.runs == 0


def test_a_last_attempt_whose_worker_is_gone_says_both_causes_and_the_error_before(
    database, queued
):
    taken_over(database, queued, "gone", POS_AWAY)
    handler = Keeping()
    assert worker(database, handler, worker_id="other").run_until_idle() == 1
    assert handler.told == [GONE_OR_CUT_OFF]


class Overrun(Keeping):
    """Its first run goes on until ``finish`` is set: a worker alive past its lease."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.finish = threading.Event(), threading.Event()

    def run(self, context):
        self.runs += 1
        if self.runs == 1:
            self.started.set()
            assert self.finish.wait(30)
        return {"runs": self.runs}


@pytest.mark.parametrize("claimer", ["w", "other"])
def test_an_attempt_that_ends_after_its_job_was_claimed_again_leaves_the_claim_standing(
    database, queued, claimer, caplog
):
    """Worker w's last attempt runs past its lease and the job is claimed again, by w's
    other lane or by another worker, which fails it and tells so. The attempt then ends: its
    success was recorded over that failure when the claimer was w itself, and otherwise
    counted as it ended without a word in the log; now it leaves the claim's record as it
    is, and the log says so once."""
    with unit_of_work(database.factory) as session:
        row = session.get_one(Job, queued)
        row.attempts, row.last_error = 2, POS_AWAY
    caplog.set_level(logging.INFO, logger="stockpot.core.jobs.worker")
    handler = Overrun()
    running = worker(database, handler)
    holder = threading.Thread(target=running.run_one)
    holder.start()
    assert handler.started.wait(30), "w runs the job's last attempt"
    with unit_of_work(database.factory) as session:
        session.get_one(Job, queued).lease_expires_at = utcnow() - timedelta(seconds=1)
    assert worker(database, handler, worker_id=claimer).run_one()
    handler.finish.set()
    holder.join(30)
    failed = job(database, queued)
    assert (failed.state, failed.last_error) == (JobState.FAILED, GONE_OR_CUT_OFF)
    assert handler.told == [GONE_OR_CUT_OFF]
    said = [r.getMessage() for r in caplog.records if r.name == "stockpot.core.jobs.worker"]
    assert said == [
        f"job {queued}: this worker's attempt 3 ran past its lease and the job was claimed "
        "again meanwhile; leaving it as its claim recorded it"
    ]
