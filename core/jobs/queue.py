"""The job queue: enqueue idempotently, claim with a lease, and record how each attempt ended.

Every change of a job's state is one short transaction. Claims use ``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so any number of workers share the queue without waiting on each other; on
SQLite the write lock taken at ``BEGIN IMMEDIATE`` serialises claims instead (the clause is
not rendered there). A claim holds a job by its number (``Job.claims``, counted at each
claim): every renewal, progress and end of a holder is one ``UPDATE … WHERE id = :id AND
claims = :claim``, so once the job was claimed again (its lease ran out) the stale holder's
statements change nothing and it stops, whoever claimed it, the same worker's other thread
included (a worker id alone let both run the job side by side).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Engine,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import company_id_for
from stockpot.core.db import inserted_ids, one_statement, unit_of_work, utcnow
from stockpot.core.errors import NotFound, ValidationFailed
from stockpot.core.jobs.telling import (
    DATABASE_AWAY,
    ON_REQUEST,
    Telling,
    as_final,
    database_away_at_last,
)
from stockpot.core.models import Job, JobKind, JobState

INTERACTIVE = 0
"""Priority of work someone is waiting for in Slack or a terminal."""
SCHEDULED = 5
BULK = 10
"""Priority of long work (migrations): it yields to everything else."""


@dataclass(frozen=True)
class JobSpec:
    """What to enqueue. ``dedupe_key``: one pending job per key; ``once_key``: one job ever."""

    kind: JobKind
    company_id: int
    location_id: int | None = None
    connection_id: int | None = None
    business_date: date | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    once_key: str | None = None
    priority: int = SCHEDULED
    max_attempts: int | None = None
    """``None``: as many as the worker's ``STOCKPOT_JOB_MAX_ATTEMPTS``."""
    run_after: datetime | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": JobState.QUEUED,
            "priority": self.priority,
            "company_id": self.company_id,
            "location_id": self.location_id,
            "connection_id": self.connection_id,
            "business_date": self.business_date,
            "dedupe_key": self.dedupe_key,
            "once_key": self.once_key,
            "payload": self.payload,
            "result": {},
            "attempts": 0,
            "claims": 0,
            "max_attempts": self.max_attempts,
            "run_after": self.run_after or now,
            "cancel_requested": False,
            "created_at": now,
        }


@dataclass(frozen=True)
class Enqueued:
    job_id: int
    created: bool
    """``False`` when an equal job was already pending (or, for a ``once_key``, ever queued)."""


def enqueue(session: Session, spec: JobSpec) -> Enqueued:
    """Queue a job unless an equal one is pending; either way say which job will do the work."""
    clauses = []
    if spec.dedupe_key is not None:
        clauses.append(and_(Job.dedupe_key == spec.dedupe_key, Job.state.in_(_pending_states())))
    if spec.once_key is not None:
        clauses.append(Job.once_key == spec.once_key)
    for _ in range(3):
        ids = inserted_ids(session, Job.__table__, [spec.row(utcnow())])
        if ids:
            notify_workers(session)
            return Enqueued(ids[0], True)
        existing = session.scalar(select(Job.id).where(or_(*clauses)).limit(1))
        if existing is not None:
            return Enqueued(existing, False)
        # The pending holder of the key finished in between: queue anew.
    raise ValidationFailed("that work is being queued by another request right now; try again")


def queued_once(session: Session, once_key: str) -> bool:
    """Whether a job with ``once_key`` was ever queued (it is never queued again)."""
    return session.scalar(select(exists().where(Job.once_key == once_key))) or False


def enqueue_many(session: Session, specs: Iterable[JobSpec]) -> int:
    """Queue each job whose keys are free; returns how many were queued (the scheduler's
    path: whatever another scheduler already queued is skipped, not duplicated)."""
    now = utcnow()
    count = len(inserted_ids(session, Job.__table__, [spec.row(now) for spec in specs]))
    if count:
        notify_workers(session)
    return count


def enqueue_answers(
    engine: Engine,
    wanted: Sequence[tuple[JobSpec, str, str | None]],
    notice: str = "",
) -> list[int | None]:
    """Queue each ``(spec, team id, channel id)`` for the company the workspace and channel
    speak for (``core.access.company_id_for``), all in one statement (``INSERT … SELECT``,
    one ``SELECT`` a job, ``UNION ALL``: the lookups are part of it) that commits by itself;
    on PostgreSQL its one ``pg_notify`` wakes the workers when it does. A job is not queued
    when there is no such company or a job with its ``once_key`` exists (the key is unique
    for ever: the same Slack delivery sent again queues nothing). Returns each new job's id,
    or ``None``, in the order given. Jobs are told apart by their ``once_key``: at most one
    of ``wanted`` may have none. ``notice``: the notification's payload (``ACKING``: a web
    process is acking a burst).

    The statement is built once (``_answers_unnested``; on SQLite once per batch size,
    ``_answers_statement``) and run with this batch's values: built anew, SQLAlchemy walked
    its whole tree for a cache key on every execution, most of a web process's CPU in a
    burst. Core's ``INSERT …
    SELECT … WHERE NOT EXISTS``, not the dialects' ``ON CONFLICT``. Two copies racing past
    the ``NOT EXISTS`` (in one batch, or in two processes) meet the unique key: the batch is
    then queued again one job at a time, and the loser queues nothing."""
    if sum(spec.once_key is None for spec, _, _ in wanted) > 1:
        raise ValueError("jobs without a once_key cannot be told apart in one batch")
    now = utcnow()
    rows = []
    for spec, _, _ in wanted:
        row = spec.row(now)
        del row["company_id"]
        rows.append(row)
    if engine.dialect.name == "postgresql":
        statement, params = _answers_as_arrays(rows, wanted)
    else:
        statement, params = _answers_row_by_row(rows, wanted)
    params["notice"] = notice
    try:
        with one_statement(engine) as connection:
            found = {key: int(job_id) for job_id, key, *_ in connection.execute(statement, params)}
    except IntegrityError:
        if len(wanted) > 1:
            return [enqueue_answers(engine, [one], notice)[0] for one in wanted]
        if wanted[0][0].once_key is None:
            raise
        return [None]  # the same delivery, queued a moment before by its racing copy
    return [found.get(spec.once_key) for spec, _, _ in wanted]


ANSWER_ROWS = ("once_key", "payload")
"""The columns in which the answer jobs of one batch differ (the rest come from
``specs.answer`` and the same ``now``)."""


def _answers_as_arrays(
    rows: list[dict[str, Any]], wanted: Sequence[tuple[JobSpec, str, str | None]]
) -> tuple[Any, dict[str, Any]]:
    """PostgreSQL's statement and values: the batch as arrays, one element a job
    (``unnest``), so one statement text serves every batch size and the server plans it in
    the same ~0.2 ms whatever the size (a ``SELECT`` a job took ~0.15 ms of planning each:
    2.4 ms for 16, the server's largest share of a burst)."""
    first = rows[0]
    columns = tuple(first)
    same = [name for name in columns if name not in ANSWER_ROWS]
    if any(row[name] != first[name] for row in rows for name in same):
        raise ValueError(f"answer jobs of one batch differ only in {', '.join(ANSWER_ROWS)}")
    params: dict[str, Any] = {f"v_{name}": first[name] for name in same}
    params.update({f"each_{name}": [row[name] for row in rows] for name in ANSWER_ROWS})
    params["each_team"] = [team for _, team, _ in wanted]
    params["each_channel"] = [channel for _, _, channel in wanted]
    return _answers_unnested(columns), params


@functools.cache
def _answers_unnested(columns: tuple[str, ...]) -> Any:
    table = Job.__table__
    each = (
        func.unnest(
            *(bindparam(f"each_{name}", type_=ARRAY(table.c[name].type)) for name in ANSWER_ROWS),
            bindparam("each_team", type_=ARRAY(String())),
            bindparam("each_channel", type_=ARRAY(String())),
        )
        .table_valued(*ANSWER_ROWS, "team", "channel", name="wanted")
        .render_derived()
    )
    picked = select(
        *(each.c[name] for name in ANSWER_ROWS),
        company_id_for(each.c.team, each.c.channel).label("company_id"),
    ).subquery("picked")
    values = [
        picked.c[name] if name in ANSWER_ROWS else bindparam(f"v_{name}", type_=table.c[name].type)
        for name in columns
    ]
    taken = exists().where(table.c.once_key == picked.c.once_key)
    rows = select(*values, picked.c.company_id).where(picked.c.company_id.is_not(None), ~taken)
    inserted = (
        insert(table)
        .from_select([*columns, "company_id"], rows)
        .returning(table.c.id, table.c.once_key)
        .cte("inserted")
    )
    woken = select(func.pg_notify(CHANNEL, bindparam("notice", type_=String()))).scalar_subquery()
    return select(inserted.c.id, inserted.c.once_key, woken)


def _answers_row_by_row(
    rows: list[dict[str, Any]], wanted: Sequence[tuple[JobSpec, str, str | None]]
) -> tuple[Any, dict[str, Any]]:
    """SQLite's statement and values (``_answers_statement``)."""
    params: dict[str, Any] = {}
    for number, (row, (_, team_id, channel_id)) in enumerate(zip(rows, wanted, strict=True)):
        params.update({f"v{number}_{name}": value for name, value in row.items()})
        params[f"t{number}"], params[f"c{number}"] = team_id, channel_id
    return _answers_statement(len(rows), tuple(rows[0])), params


@functools.cache
def _answers_statement(size: int, columns: tuple[str, ...]) -> Any:
    """``enqueue_answers``'s statement for ``size`` jobs on SQLite, every value a bound
    parameter: job ``n``'s columns ``v<n>_<column>``, its team ``t<n>`` and channel
    ``c<n>``. In process, planning a ``SELECT`` a job costs little."""
    table = Job.__table__
    chosen = []
    for number in range(size):
        values = {
            name: bindparam(f"v{number}_{name}", type_=table.c[name].type) for name in columns
        }
        company = company_id_for(
            bindparam(f"t{number}", type_=String()), bindparam(f"c{number}", type_=String())
        )
        picked = select(company.label("company_id")).subquery()
        taken = exists().where(table.c.once_key == values["once_key"])
        chosen.append(
            select(*values.values(), picked.c.company_id).where(
                picked.c.company_id.is_not(None), ~taken
            )
        )
    rows = chosen[0] if size == 1 else union_all(*chosen)
    return (
        insert(table)
        .from_select([*columns, "company_id"], rows)
        .returning(table.c.id, table.c.once_key)
    )


CHANNEL = "stockpot_jobs"
"""The PostgreSQL notification channel workers LISTEN on (``core.jobs.listen``)."""

ACKING = "acking"
"""A notification's payload when the answers it announces came in a burst: a web process is
acking requests faster than it queues them, and workers claim nothing for a moment
(``core.jobs.worker.AckBursts``) so the acks keep the CPU. Slack waits 3 seconds for an ack;
an answer may come later."""


def notify_workers(session: Session) -> None:
    """On PostgreSQL, wake every listening worker when this transaction commits (NOTIFY is
    delivered at commit, so no worker looks before the job is visible). Works through
    PgBouncer in transaction pooling too; only LISTEN needs a direct connection."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def _pending_states() -> tuple[JobState, ...]:
    return (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class ClaimedJob:
    """A job as its worker sees it for one attempt."""

    id: int
    kind: JobKind
    company_id: int
    location_id: int | None
    connection_id: int | None
    business_date: date | None
    payload: dict[str, Any]
    result: dict[str, Any]
    attempts: int
    max_attempts: int
    created_at: datetime
    worker_id: str
    claim: int
    """This claim's number (``Job.claims``): the token its holder's statements check."""
    telling: dict[str, Any] | None = None
    """Set when the claim is to tell how the job ended (``core.jobs.telling``), not to run it."""

    @property
    def last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.state == JobState.QUEUED, Job.run_after <= now),
        and_(Job.state == JobState.RUNNING, Job.lease_expires_at < now),
        _owed_by_the_dead(now),
    )


def _owed_by_the_dead(now: datetime) -> Any:
    """A failure or cancellation recorded but not told, whose teller's lease ran out, or
    owed messages whose time came (``_owed``)."""
    return and_(Job.telling.is_not(None), Job.lease_expires_at < now)


def claim(
    factory: sessionmaker[Session],
    worker_id: str,
    lease: timedelta,
    kinds: Sequence[JobKind] | None = None,
    *,
    max_attempts: int = 5,
) -> ClaimedJob | None:
    """Take the most urgent due job (or one whose worker's lease expired), or ``None``
    (``claim_many`` of one)."""
    jobs = claim_many(factory, worker_id, lease, kinds, max_attempts=max_attempts)
    return jobs[0] if jobs else None


def claim_many(
    factory: sessionmaker[Session],
    worker_id: str,
    lease: timedelta,
    kinds: Sequence[JobKind] | None = None,
    *,
    limit: int = 1,
    max_attempts: int = 5,
    running: Collection[int] = (),
) -> list[ClaimedJob]:
    """Take up to ``limit`` of the most urgent due jobs (or jobs whose worker's lease
    expired, or whose end a dead worker did not tell), in one transaction; an empty list
    when none is due.

    A job taken over after its worker died counts an attempt; one that has used them all is
    failed instead of being run again, and claimed to tell that (``ClaimedJob.telling``).
    ``max_attempts`` applies to jobs queued without their own limit. ``running``: the jobs
    this worker's threads hold now, never claimed again by it (a lease that ran out while
    its worker lives means its renewal lagged, not that its attempt died: claimed again,
    the attempt would stop at its next statement and the job start over; another worker
    takes it over all the same).
    """
    with factory() as session:
        # An idle worker polls: look first without the write lock (SQLite) or row locks.
        due = _due(select(Job.id), kinds, running)
        if session.scalar(due.limit(1)) is None:
            return []
    with unit_of_work(factory) as session:
        now = utcnow()
        query = _due(select(Job), kinds, running, now)
        found = session.scalars(
            query.order_by(Job.priority, Job.run_after, Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        return [_take(session, job, worker_id, now, lease, max_attempts) for job in found]


def _due(
    query: Any,
    kinds: Sequence[JobKind] | None,
    running: Collection[int],
    now: datetime | None = None,
) -> Any:
    query = query.where(_claimable(now or utcnow()))
    if kinds:
        query = query.where(Job.kind.in_(kinds))
    if running:
        query = query.where(Job.id.not_in(running))
    return query


def _take(
    session: Session,
    job: Job,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> ClaimedJob:
    """Make ``job`` this worker's (in the claiming transaction): to run it, or to tell how it
    ended (a telling a dead worker owed, or a job taken over with no attempt left, failed
    here)."""
    taken_over = job.state is JobState.RUNNING
    limit = job.max_attempts or max_attempts
    if taken_over and job.attempts >= limit:
        job.state = JobState.FAILED
        job.finished_at = now
        job.last_error = _unrecorded(job.attempts, job.last_error)
        job.telling = Telling(job.last_error).dump()
    if job.telling is None:
        job.state = JobState.RUNNING
        job.attempts += 1
    job.claims += 1
    job.worker_id = worker_id
    job.lease_expires_at = now + lease
    job.started_at = job.started_at or now
    return ClaimedJob(
        id=job.id,
        kind=job.kind,
        company_id=job.company_id,
        location_id=job.location_id,
        connection_id=job.connection_id,
        business_date=job.business_date,
        payload=dict(job.payload),
        result=dict(job.result),
        attempts=job.attempts,
        max_attempts=limit,
        created_at=job.created_at,
        worker_id=worker_id,
        claim=job.claims,
        telling=dict(job.telling) if job.telling is not None else None,
    )


def _unrecorded(attempts: int, last_error: str | None) -> str:
    """Why a job failed whose last attempt ended without a record (its lease ran out). The
    attempt before met the database away: the database did not answer (an end goes
    unrecorded when it does not). Else its worker stopped, or did not reach the database in
    time, and the claim cannot tell which: it is the same whichever worker wins the race to
    claim the job, the one that held it (alive, it claims as any worker does) or another
    (its heartbeat before or after the lease ran out). It said "the database could not be
    reached" to the first and "its worker stopped" to the second, of one and the same end."""
    if last_error == DATABASE_AWAY:
        return database_away_at_last(attempts)
    cause = "did not reach the database in time to keep the job"
    if last_error is None:
        which = (
            "its only attempt ended without a record"
            if attempts == 1
            else f"none of its {attempts} attempts recorded how it ended"
        )
        return f"{which}: its worker stopped, or {cause}"
    return (
        f"the last of its {attempts} attempts ended without a record: its worker stopped, or "
        f"{cause} (the attempt before failed: {as_final(last_error)})"
    )


@dataclass(frozen=True)
class Lease:
    held: bool
    cancel_requested: bool


def renew(factory: sessionmaker[Session], job: ClaimedJob, lease: timedelta) -> Lease:
    """Extend the lease if this worker still holds it, and say whether cancellation was asked."""
    row = _one(
        factory,
        update(Job)
        .where(_held_by(job))
        .values(lease_expires_at=utcnow() + lease)
        .returning(Job.cancel_requested),
    )
    return Lease(held=row is not None, cancel_requested=bool(row and row[0]))


def renew_held(
    factory: sessionmaker[Session], worker_id: str, claims: Mapping[int, int], lease: timedelta
) -> None:
    """Extend the leases of the jobs ``worker_id`` still holds by the claims ``claims``
    (job id: claim number)."""
    held = tuple_(Job.id, Job.claims).in_(list(claims.items()))
    _one(
        factory,
        update(Job).where(held, _held(worker_id)).values(lease_expires_at=utcnow() + lease),
    )


def _one(factory: sessionmaker[Session], statement: Any) -> Any:
    """Run a job's change of state, one statement, as its own transaction (on PostgreSQL
    without ``BEGIN`` and ``COMMIT`` round trips); its first row, if it returns any."""
    with one_statement(factory.kw["bind"]) as connection:
        result = connection.execute(statement)
        return result.first() if result.returns_rows else None


def _held_by(job: ClaimedJob) -> Any:
    """``job`` as this claim holds it: not claimed again since (``Job.claims``)."""
    return and_(Job.id == job.id, Job.claims == job.claim, _held(job.worker_id))


def _held(worker_id: str) -> Any:
    """Jobs ``worker_id`` runs, or whose end it is telling (it saves the ``ts`` of what it
    says, as a run does)."""
    return and_(Job.worker_id == worker_id, _leased())


def save_progress(factory: sessionmaker[Session], job: ClaimedJob, result: dict[str, Any]) -> bool:
    """Keep what a long job has done so far (its Slack message, its counts) for the next
    attempt, should this worker die; whether this claim still holds the job (else nothing
    is kept)."""
    saved = _one(factory, update(Job).where(_held_by(job)).values(result=result).returning(Job.id))
    return saved is not None


def succeed(
    factory: sessionmaker[Session],
    job: ClaimedJob,
    result: dict[str, Any],
    unsaid: Telling | None = None,
    at: datetime | None = None,
) -> bool:
    """Record the job done; with ``unsaid`` (messages Slack did not take) owing them, due
    at ``at``, when any worker claims them (``_owed``)."""
    owed = {} if unsaid is None else _owed(unsaid, at)
    return _end(factory, job, state=JobState.SUCCEEDED, result=result, last_error=None, **owed)


def cancelled(
    factory: sessionmaker[Session],
    job: ClaimedJob,
    result: dict[str, Any],
    lease: timedelta,
    telling: Telling,
) -> bool:
    """Record the job cancelled and owing ``telling``, which this worker holds for ``lease``
    (``told`` clears it)."""
    return _end(
        factory,
        job,
        state=JobState.CANCELED,
        result=result,
        telling=telling.dump(),
        lease_expires_at=utcnow() + lease,
    )


def fail(
    factory: sessionmaker[Session], job: ClaimedJob, lease: timedelta, telling: Telling
) -> bool:
    """Record the job failed (for ``telling.reason``) and owing ``telling``, as ``cancelled``."""
    return _end(
        factory,
        job,
        state=JobState.FAILED,
        last_error=telling.reason,
        telling=telling.dump(),
        lease_expires_at=utcnow() + lease,
    )


def _owed_by(job: ClaimedJob) -> Any:
    """``job`` as its worker holds it to tell how it ended (``Job.telling`` set)."""
    return and_(_held_by(job), Job.telling.is_not(None))


def _telling(factory: sessionmaker[Session], job: ClaimedJob, **values: Any) -> bool:
    """Update the telling ``job``'s worker holds; whether it still held it."""
    done = _one(factory, update(Job).where(_owed_by(job)).values(**values).returning(Job.id))
    return done is not None


def told(factory: sessionmaker[Session], job: ClaimedJob) -> bool:
    """The end of ``job`` was told: nothing is owed any more."""
    return _telling(factory, job, telling=None, lease_expires_at=None)


def tell_later(
    factory: sessionmaker[Session], job: ClaimedJob, telling: Telling, at: datetime
) -> bool:
    """The end of ``job`` could not be told (Slack away): it stays owed as ``telling`` (its
    tries counted), due again at ``at``, when any worker claims it (``_owed``)."""
    return _telling(factory, job, **_owed(telling, at))


def _owed(telling: Telling, at: datetime) -> dict[str, Any]:
    """A telling no worker holds any more, due at ``at``: until then no one is telling it
    (``owed_later``), so nothing waits for it (``unfinished_count``); then any worker claims
    it as a dead worker's."""
    return {"telling": telling.dump(), "lease_expires_at": at, "worker_id": None}


def _end(factory: sessionmaker[Session], job: ClaimedJob, **values: Any) -> bool:
    """Record how a running attempt ended: only a job still running (a claim that failed it
    meanwhile, even this worker's own, keeps the failure it told)."""
    now = utcnow()
    done = _one(
        factory,
        update(Job)
        .where(_held_by(job), Job.state == JobState.RUNNING)
        .values(**{"finished_at": now, "lease_expires_at": None, **values})
        .returning(Job.id),
    )
    return done is not None


def retry_later(
    factory: sessionmaker[Session],
    job: ClaimedJob,
    error: str,
    at: datetime,
    *,
    count_attempt: bool = True,
) -> bool:
    """Queue the job again for ``at``. Without ``count_attempt`` the attempt is given back
    (the POS said the day is still open: nothing failed)."""
    values: dict[str, Any] = {
        "state": JobState.QUEUED,
        "run_after": at,
        "lease_expires_at": None,
        "last_error": error,
    }
    if not count_attempt:
        values["attempts"] = Job.attempts - 1
    running = and_(_held_by(job), Job.state == JobState.RUNNING)
    done = _one(factory, update(Job).where(running).values(**values).returning(Job.id))
    return done is not None


def hand_back(factory: sessionmaker[Session], job: ClaimedJob, result: dict[str, Any]) -> bool:
    """Give a job back because its worker is stopping (SIGTERM): queued again at once, with
    its progress and without using an attempt, so another worker takes it now instead of
    after the lease would have run out. A job claimed to tell how it ended
    (``ClaimedJob.telling``) stays ended: only its telling is given back, due at once (queued,
    the failed job would run again)."""
    if job.telling is not None:
        return _telling(factory, job, lease_expires_at=utcnow(), worker_id=None)
    given = (
        update(Job)
        .where(_held_by(job), Job.state == JobState.RUNNING)
        .values(
            state=JobState.QUEUED,
            run_after=utcnow(),
            lease_expires_at=None,
            attempts=Job.attempts - 1,
            result=result,
        )
    )
    return _one(factory, given.returning(Job.id)) is not None


def request_cancel(session: Session, job_id: int, company_id: int) -> Job:
    """Ask a pending job to stop: a queued job is cancelled at once, a running one stops at
    its next checkpoint. Slack's answers are not work anyone stops (cancelling one would
    leave a person's request unanswered).

    A queued job may have said so already ("Importing…", Retry's "Trying again…"): its
    cancellation is owed like a running job's (``Job.telling``) and the next worker tells it,
    once its hold ends (a Retry's note is said first, then ``release``)."""
    job = _company_job(session, job_id, company_id)
    now = utcnow()
    # Conditional updates: a worker may claim the job between the read and the write, and a
    # running job (its work perhaps done and said) is not then recorded cancelled.
    cancelled = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == JobState.QUEUED)
        .values(
            state=JobState.CANCELED,
            finished_at=now,
            telling=Telling(ON_REQUEST, cancelled=True).dump(),
            lease_expires_at=case((Job.run_after > now, Job.run_after), else_=now),
            worker_id=None,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).first()
    if cancelled is not None:
        notify_workers(session)
    else:
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state == JobState.RUNNING)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
    session.refresh(job)
    return job


def requeue(session: Session, job_id: int, company_id: int) -> Job:
    """Run a failed or cancelled job again, with its attempts counted from zero. Only
    those: a job that succeeded did its work (run again, a report would be posted twice),
    and a Slack answer is never run twice (it would act on a request again, past the replay
    check its delivery passed once). A pending job is returned as it is."""
    job = retryable(session, job_id, company_id)
    if not job.state.pending:
        requeued(session, job)
    return job


def requeued(session: Session, job: Job, hold: timedelta = timedelta(0)) -> bool:
    """Queue ``job`` (read failed or cancelled by ``retryable``) again, due after ``hold``
    (``release`` makes it due at once; either wakes the workers when it is due); ``False``
    when another requeue of it took effect since it was read. A conditional update: of two
    at once exactly one takes effect, on either database (on PostgreSQL the second waits for
    the first's row and then finds it queued)."""
    try:
        done = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state.in_((JobState.FAILED, JobState.CANCELED)))
            .values(
                state=JobState.QUEUED,
                attempts=0,
                run_after=utcnow() + hold,
                cancel_requested=False,
                finished_at=None,
                worker_id=None,
                telling=None,
                lease_expires_at=None,
            )
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        ).first()
    except IntegrityError as error:  # the same work queued since the check: refused
        raise ValidationFailed(ALREADY_QUEUED) from error
    session.expire(job)
    if done is not None and not hold:
        notify_workers(session)
    return done is not None


def release(session: Session, job_id: int) -> None:
    """Make a job ``requeued`` with a hold due now; cancelled meanwhile, its cancellation is
    told now (``request_cancel``)."""
    now = utcnow()
    released = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED, Job.run_after > now)
        .values(run_after=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).first()
    owed = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.telling.is_not(None),
            Job.worker_id.is_(None),
            Job.lease_expires_at > now,
        )
        .values(lease_expires_at=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).first()
    if released is not None or owed is not None:
        notify_workers(session)


ALREADY_QUEUED = "the same work is already queued; its result will follow"


def retryable(session: Session, job_id: int, company_id: int) -> Job:
    """The company's job ``job_id`` if ``requeue`` may run it again (or it is pending),
    refused as ``requeue`` would refuse it, the same work already queued included: read
    before a person is told it runs again, without holding a lock while they are told."""
    job = _company_job(session, job_id, company_id)
    if job.state.pending:
        return job
    if job.state not in (JobState.FAILED, JobState.CANCELED):
        raise ValidationFailed("only a failed or cancelled job can be tried again")
    if job.dedupe_key is not None and session.scalar(
        select(
            exists().where(
                Job.dedupe_key == job.dedupe_key,
                Job.state.in_(_pending_states()),
                Job.id != job.id,
            )
        )
    ):
        raise ValidationFailed(ALREADY_QUEUED)
    return job


def _company_job(session: Session, job_id: int, company_id: int) -> Job:
    """The company's job ``job_id`` that a person may retry or cancel: Slack's answers are
    the bot's own bookkeeping, refused like another company's job."""
    job = session.get(Job, job_id)
    if job is None or job.company_id != company_id or job.kind is JobKind.ANSWER:
        raise NotFound(f"no job {job_id} in this company")
    return job


def pending(session: Session, kind: JobKind, location_id: int) -> Job | None:
    """The location's queued or running job of this kind, if any."""
    return session.scalar(
        select(Job)
        .where(
            Job.kind == kind,
            Job.location_id == location_id,
            Job.state.in_(_pending_states()),
        )
        .limit(1)
    )


def next_wake(session: Session) -> datetime | None:
    """When the soonest job becomes claimable: a queued job's time, or a running job's lease
    end (its worker may have died)."""
    queued = session.scalar(
        select(Job.run_after).where(Job.state == JobState.QUEUED).order_by(Job.run_after).limit(1)
    )
    leased = session.scalar(
        select(Job.lease_expires_at).where(_leased()).order_by(Job.lease_expires_at).limit(1)
    )
    times = [t for t in (queued, leased) if t is not None]
    return min(times) if times else None


def unfinished_count(session: Session, kinds: Sequence[JobKind] | None = None) -> int:
    """Jobs running anywhere (or whose end a worker is telling), plus jobs of ``kinds`` that
    are due, or whose owed messages are. A due job another worker is claiming right now is
    invisible to a ``SKIP LOCKED`` claim and not yet ``running`` either: only counting it as
    due keeps an idle check from ending while it is taken. Messages owed for later
    (``owed_later``) are not counted: Slack away, they wait up to hours."""
    now = utcnow()
    due = or_(and_(Job.state == JobState.QUEUED, Job.run_after <= now), _owed_by_the_dead(now))
    if kinds:
        due = and_(due, Job.kind.in_(kinds))
    return session.scalar(select(func.count()).select_from(Job).where(or_(_leased(), due))) or 0


@dataclass(frozen=True)
class Owed:
    jobs: int
    next_at: datetime | None
    """When the first of them is tried again."""


def owed_later(session: Session, kinds: Sequence[JobKind] | None = None) -> Owed:
    """The jobs (of ``kinds``) whose messages Slack did not take, or whose end was not told
    yet, that no worker holds and that are not due yet: kept in the job (``Job.telling``)
    for the first worker that polls after their time."""
    waiting = and_(
        Job.telling.is_not(None), Job.worker_id.is_(None), Job.lease_expires_at >= utcnow()
    )
    if kinds:
        waiting = and_(waiting, Job.kind.in_(kinds))
    jobs, next_at = session.execute(
        select(func.count(), func.min(Job.lease_expires_at)).where(waiting)
    ).one()
    return Owed(jobs, next_at)


def _leased() -> Any:
    """Jobs a worker holds under a lease: running, or telling how they ended (a telling no
    worker holds, ``_owed``, waits for its time instead)."""
    return or_(
        Job.state == JobState.RUNNING, and_(Job.telling.is_not(None), Job.worker_id.is_not(None))
    )


@dataclass(frozen=True)
class LocationJobs:
    """What is waiting and what last failed for one location, as a status line shows it."""

    pending: int
    failed: Job | None


def pending_since(
    session: Session, kind: JobKind, company_id: int
) -> dict[int, tuple[datetime, bool]]:
    """The company's locations that have a queued or running job of this kind, each with
    when its earliest one started (``True``) or, none started yet, was queued (``False``)."""
    found: dict[int, tuple[datetime, bool]] = {}
    for location_id, created, started in session.execute(
        select(Job.location_id, Job.created_at, Job.started_at).where(
            Job.company_id == company_id,
            Job.kind == kind,
            Job.location_id.is_not(None),
            Job.state.in_(_pending_states()),
        )
    ):
        since = (started or created, started is not None)
        if location_id not in found or since[0] < found[location_id][0]:
            found[location_id] = since
    return found


def jobs_by_location(session: Session, company_id: int) -> dict[int, LocationJobs]:
    rows = session.scalars(
        select(Job)
        .where(
            Job.company_id == company_id,
            Job.location_id.is_not(None),
            Job.state.in_((*_pending_states(), JobState.FAILED)),
        )
        .order_by(Job.id)
    ).all()
    found: dict[int, LocationJobs] = {}
    for job in rows:
        assert job.location_id is not None
        seen = found.get(job.location_id, LocationJobs(0, None))
        if job.state is JobState.FAILED:
            found[job.location_id] = LocationJobs(seen.pending, job)
        else:
            found[job.location_id] = LocationJobs(seen.pending + 1, seen.failed)
    return found
