"""The queue on both databases: idempotent enqueueing, claims, leases, attempts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.errors import NotFound, ValidationFailed
from stockpot.core.jobs import queue
from stockpot.core.jobs.queue import BULK, INTERACTIVE, JobSpec, claim, enqueue, enqueue_many
from stockpot.core.jobs.telling import Telling
from stockpot.core.models import Company, Job, JobKind, JobState

LEASE = timedelta(minutes=5)


@pytest.fixture
def company(database) -> int:
    with unit_of_work(database.factory) as session:
        company = Company(name="Queue Test")
        session.add(company)
        session.flush()
        return company.id


def spec(company: int, **values) -> JobSpec:
    return JobSpec(kind=JobKind.REPORT, company_id=company, **values)


def queue_one(database, job: JobSpec) -> queue.Enqueued:
    with unit_of_work(database.factory) as session:
        return enqueue(session, job)


def state(database, job_id: int) -> Job:
    with database.session() as session:
        return session.get_one(Job, job_id)


def test_a_pending_key_is_queued_once_and_free_again_when_done(database, company):
    first = queue_one(database, spec(company, dedupe_key="k"))
    again = queue_one(database, spec(company, dedupe_key="k"))
    assert first.created and not again.created and again.job_id == first.job_id
    claimed = claim(database.factory, "w1", LEASE)
    assert claimed is not None and claimed.id == first.job_id
    assert not queue_one(database, spec(company, dedupe_key="k")).created, "running counts"
    assert queue.succeed(database.factory, claimed, {"ok": True})
    later = queue_one(database, spec(company, dedupe_key="k"))
    assert later.created and later.job_id != first.job_id


def test_a_once_key_is_queued_once_ever(database, company):
    first = queue_one(database, spec(company, once_key="report:1:2026-11-27"))
    job = claim(database.factory, "w1", LEASE)
    queue.fail(database.factory, job, LEASE, Telling("broken"))
    again = queue_one(database, spec(company, once_key="report:1:2026-11-27"))
    assert not again.created and again.job_id == first.job_id
    with unit_of_work(database.factory) as session:
        assert enqueue_many(session, [spec(company, once_key="report:1:2026-11-27")]) == 0
        assert enqueue_many(session, [spec(company, once_key="report:1:2026-11-28")]) == 1


def test_claims_take_the_most_urgent_due_job_first(database, company):
    bulk = queue_one(database, spec(company, priority=BULK)).job_id
    later = queue_one(database, spec(company, run_after=utcnow() + timedelta(hours=1))).job_id
    urgent = queue_one(database, spec(company, priority=INTERACTIVE)).job_id
    order = [claim(database.factory, "w", LEASE), claim(database.factory, "w", LEASE)]
    assert [job.id for job in order if job] == [urgent, bulk]
    assert claim(database.factory, "w", LEASE) is None, f"job {later} is not due yet"


@pytest.mark.parametrize("claimer", ["other", "dead"])
def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_finish(
    database, company, claimer
):
    """Whoever claims the job again, another worker or the same one (its other thread, its
    lease renewal lagging), the earlier claim's renewal, progress and end change nothing:
    the job is held by its claim's number, not by the worker's id alone."""
    job_id = queue_one(database, spec(company, max_attempts=2)).job_id
    dead = claim(database.factory, "dead", LEASE)
    assert claim(database.factory, claimer, LEASE) is None, "the lease holds"
    with unit_of_work(database.factory) as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    taken = claim(database.factory, claimer, LEASE)
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert (dead.claim, taken.claim) == (1, 2)
    assert not queue.renew(database.factory, dead, LEASE).held
    queue.save_progress(database.factory, dead, {"by": "dead"})
    assert state(database, job_id).result == {}, "the stale claim's progress is not kept"
    assert not queue.succeed(database.factory, dead, {"by": "dead"})
    assert not queue.retry_later(database.factory, dead, "stale", utcnow())
    assert queue.renew(database.factory, taken, LEASE).held
    assert queue.succeed(database.factory, taken, {"by": claimer})
    done = state(database, job_id)
    assert (done.state, done.result) == (JobState.SUCCEEDED, {"by": claimer})


def test_a_worker_does_not_claim_again_a_job_it_is_running(database, company):
    """The worker passes the jobs its threads run (``running``): a lease that ran out under
    it (its renewal lagged) is not claimed by its other thread, so the attempt goes on
    instead of stopping to be started over; any other worker may take it over."""
    job_id = queue_one(database, spec(company)).job_id
    held = claim(database.factory, "w", LEASE)
    with unit_of_work(database.factory) as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert queue.claim_many(database.factory, "w", LEASE, running=[job_id]) == []
    assert queue.renew(database.factory, held, LEASE).held, "still its attempt"
    with unit_of_work(database.factory) as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    other = queue.claim_many(database.factory, "other", LEASE, running=[])
    assert [job.id for job in other] == [job_id]


def test_a_job_whose_workers_keep_dying_fails_instead_of_looping(database, company):
    job_id = queue_one(database, spec(company, max_attempts=1)).job_id
    claim(database.factory, "dead", LEASE)
    with unit_of_work(database.factory) as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    told = claim(database.factory, "other", LEASE)
    assert told is not None and told.telling is not None, "claimed to tell it, not to run it"
    assert "its worker stopped" in told.telling["reason"] and told.attempts == 1
    failed = state(database, job_id)
    assert failed.state is JobState.FAILED and "its worker stopped" in failed.last_error
    assert queue.told(database.factory, told)
    assert state(database, job_id).telling is None
    assert claim(database.factory, "other", LEASE) is None


def test_retry_later_can_give_the_attempt_back(database, company):
    job_id = queue_one(database, spec(company)).job_id
    job = claim(database.factory, "w", LEASE)
    at = utcnow() + timedelta(minutes=30)
    assert queue.retry_later(database.factory, job, "open", at, count_attempt=False)
    row = state(database, job_id)
    assert (row.state, row.attempts, row.last_error) == (JobState.QUEUED, 0, "open")
    assert claim(database.factory, "w", LEASE) is None, "not before its time"


def test_cancel_and_requeue_stay_within_the_company(database, company):
    with unit_of_work(database.factory) as session:
        other = Company(name="Someone Else")
        session.add(other)
        session.flush()
        other_id = other.id
    queued = queue_one(database, spec(company)).job_id
    with unit_of_work(database.factory) as session, pytest.raises(NotFound):
        queue.request_cancel(session, queued, other_id)
    with unit_of_work(database.factory) as session:
        assert queue.request_cancel(session, queued, company).state is JobState.CANCELED
    owed = claim(database.factory, "w", LEASE)
    assert owed is not None and (owed.id, owed.telling) == (
        queued,
        {"reason": "cancelled on request", "cancelled": True, "facts": {}},
    ), "a job cancelled while queued is claimed to tell so, not to run"
    running = queue_one(database, spec(company)).job_id
    job = claim(database.factory, "w", LEASE)
    assert job is not None and job.id == running
    with unit_of_work(database.factory) as session:
        queue.request_cancel(session, running, company)
    assert queue.renew(database.factory, job, LEASE).cancel_requested
    queue.fail(database.factory, job, LEASE, Telling("stopped"))
    with unit_of_work(database.factory) as session:
        again = queue.requeue(session, running, company)
        assert (again.state, again.attempts, again.cancel_requested, again.telling) == (
            JobState.QUEUED,
            0,
            False,
            None,
        ), "queued again, its refusal is no longer owed"


def test_requeue_refuses_while_the_same_work_is_pending(database, company):
    failed = queue_one(database, spec(company, dedupe_key="day")).job_id
    queue.fail(database.factory, claim(database.factory, "w", LEASE), LEASE, Telling("x"))
    queue_one(database, spec(company, dedupe_key="day"))
    with (
        unit_of_work(database.factory) as session,
        pytest.raises(ValidationFailed, match="already queued"),
    ):
        queue.requeue(session, failed, company)


def test_pending_finds_a_locations_job_of_a_kind(database, company):
    with unit_of_work(database.factory) as session:
        assert queue.pending(session, JobKind.MIGRATION, 1) is None
        assert session.scalars(select(Job)).all() == []
        assert queue.next_wake(session) is None
    queue_one(database, spec(company, business_date=date(2026, 11, 27)))
    with database.session() as session:
        assert queue.next_wake(session) is not None


@pytest.mark.postgresql_only
def test_a_job_in_the_middle_of_another_worker_s_claim_is_not_idle(database, company):
    """The flake of tests/bot/test_slack_faults.py: a drain (``run_until_idle`` waiting for
    others) looked while the bot's worker was claiming the job: its ``SKIP LOCKED`` claim
    found nothing, the job was not ``running`` yet, and the drain ended with the job unrun."""
    job_id = queue_one(database, spec(company)).job_id
    with database.engine.connect() as other_worker, other_worker.begin():
        other_worker.execute(select(Job.id).where(Job.id == job_id).with_for_update())
        assert claim(database.factory, "w1", LEASE) is None, "skipped: another claim holds it"
        with database.session() as session:
            assert queue.unfinished_count(session) == 1
            assert queue.unfinished_count(session, [JobKind.SYNC]) == 0, "not this worker's"
    with database.session() as session:
        assert queue.unfinished_count(session) == 1
    assert claim(database.factory, "w1", LEASE) is not None


def test_two_companies_of_one_workspace_each_import_the_same_shared_file(database):
    """A workspace may hold several companies (each in its own bound channels), and a file
    shared there may be previewed by each with its own CSV connection: each company's Import
    is its own job. Sharing a dedupe key (team and file only), the second company's import
    joined the first's, was never done, and its preview was pointed at the other company's
    channel."""
    from stockpot.core.jobs import specs
    from stockpot.core.jobs.specs import Notify
    from stockpot.core.models import Connection, Provider

    with unit_of_work(database.factory) as session:
        ids = []
        for name in ("Trattoria", "Osteria"):
            company = Company(name=name)
            session.add(company)
            session.flush()
            connection = Connection(company_id=company.id, provider=Provider.CSV, name="kasse")
            session.add(connection)
            session.flush()
            ids.append((company.id, connection.id))

    def imported(company: int, connection: int, channel: str, ts: str) -> queue.Enqueued:
        return queue_one(
            database,
            specs.csv_import(
                company,
                connection,
                "F1",
                default_date=None,
                valid_only=False,
                force=False,
                thread_ts=None,
                triggered_by="slack:U1",
                notify=Notify(team_id="T1", channel_id=channel, message_ts=ts),
            ),
        )

    first = imported(*ids[0], "C1", "1.0")
    second = imported(*ids[1], "C2", "1.0")
    assert first.created and second.created and second.job_id != first.job_id
    assert not imported(*ids[1], "C2", "2.0").created, "the same company's import is still once"


def test_a_cancel_that_read_the_job_queued_before_a_worker_claimed_it_asks_it_to_stop(
    database, company
):
    """``request_cancel`` read the job queued, a worker claimed it, and the cancel then wrote
    the state it had read over the claim: a running job (its import perhaps done and said)
    was recorded cancelled. The cancel takes effect only on the state the job is in."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite's writer lock keeps the claim from coming in between")
    queued = queue_one(database, spec(company)).job_id
    with unit_of_work(database.factory) as session:
        read = session.get_one(Job, queued)  # as request_cancel reads it, first
        assert read.state is JobState.QUEUED
        elsewhere = ThreadPoolExecutor(1)  # another worker's connection
        claimed = elsewhere.submit(claim, database.factory, "w", LEASE).result(timeout=30)
        elsewhere.shutdown()
        assert claimed is not None and claimed.id == queued
        queue.request_cancel(session, queued, company)
    with database.session() as session:
        row = session.get_one(Job, queued)
        assert (row.state, row.cancel_requested, row.telling, row.worker_id) == (
            JobState.RUNNING,
            True,
            None,
            "w",
        )
